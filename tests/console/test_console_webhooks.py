"""The console's webhooks page: endpoints, deliveries, retry and test, each account its own."""

from __future__ import annotations

import re

from tests import factories
from tests.console.conftest import make_delivery, make_webhook


def test_the_page_counts_deliveries_as_the_api_lists_them(db, browser, sign_in, client, auth, account):
    endpoint = make_webhook(db, account)
    for n, status in enumerate(("delivered", "delivered", "failed", "pending")):
        make_delivery(db, endpoint, f"dlv_{n}", status)
    sign_in(account)
    page = browser.get("/console/webhooks").text
    api = client.get("/api/admin/v1/webhooks/hook/deliveries", headers=auth(account)).json()["items"]
    statuses = [d["status"] for d in api]
    shown = {k: int(v) for k, v in re.findall(r'class="(delivered|pending|failed)">(\d+)<', page)}
    assert shown == {s: statuses.count(s) for s in ("delivered", "pending", "failed")}
    overview = browser.get("/console").text
    assert re.search(r'id="deliveries-failed">1<', overview)


def test_a_failed_delivery_is_retried_by_its_button_and_only_with_the_csrf_token(
    db, browser, sign_in, client, auth, account
):
    endpoint = make_webhook(db, account)
    make_delivery(db, endpoint, "dlv_failed", "failed")
    csrf = sign_in(account)
    url = "/console/webhooks/hook/deliveries/dlv_failed/retry"
    assert browser.post(url, data={}).status_code == 403
    response = browser.post(url, data={"csrf_token": csrf})
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/console/webhooks/hook?retried=dlv_failed",
    )
    api = client.get("/api/admin/v1/webhooks/hook/deliveries", headers=auth(account)).json()["items"]
    assert [(d["id"], d["status"]) for d in api] == [("dlv_failed", "pending")]
    assert "is queued again" in browser.get(response.headers["location"]).text


def test_the_test_button_queues_a_test_event(db, browser, sign_in, client, auth, account):
    make_webhook(db, account)
    csrf = sign_in(account)
    assert browser.post("/console/webhooks/hook/test", data={"csrf_token": csrf}).status_code == 303
    api = client.get("/api/admin/v1/webhooks/hook/deliveries", headers=auth(account)).json()["items"]
    assert [d["eventType"] for d in api] == ["webhook.test"]
    assert "webhook.test" in browser.get("/console/webhooks/hook").text


def test_another_accounts_endpoints_and_deliveries_are_not_found(db, browser, sign_in):
    a, b = factories.make_account(db), factories.make_account(db)
    make_delivery(db, make_webhook(db, b, "their-hook"), "dlv_theirs", "failed")
    csrf = sign_in(a)
    assert "their-hook" not in browser.get("/console/webhooks").text
    assert browser.get("/console/webhooks/their-hook").status_code == 404
    retry = browser.post(
        "/console/webhooks/their-hook/deliveries/dlv_theirs/retry", data={"csrf_token": csrf}
    )
    assert retry.status_code == 404
    assert browser.post("/console/webhooks/their-hook/test", data={"csrf_token": csrf}).status_code == 404


def test_a_sub_account_console_user_sees_no_webhooks(db, browser, sign_in):
    account = factories.make_account(db, sub_accounts=["EU"])
    make_webhook(db, account)
    sign_in(account, "EU")
    assert browser.get("/console/webhooks").status_code == 404
    assert "Webhook deliveries" not in browser.get("/console").text
