"""The console's pages without a browser: sign-in, sessions, CSRF, tenancy, what each page shows."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from enabley.console import service as console_service
from enabley.models import ConsoleSession
from tests import factories
from tests.console.conftest import csrf_of


def test_pages_need_a_session_and_send_the_browser_to_the_login_form(browser):
    response = browser.get("/console/channels?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fchannels%3Fx%3D1"
    assert browser.get("/console/login").status_code == 200


def test_a_fetch_without_a_session_is_401(browser):
    response = browser.get("/console", headers={"Accept": "application/json"})
    assert (response.status_code, response.json()["error"]) == (401, "access_denied")


def test_sign_in_sets_a_hardened_cookie_and_the_overview_counts(db, browser, account):
    for n in range(3):
        factories.make_user(db, account, f"u{n}")
    factories.make_group(db, account, "g1")
    email = "ops@example.com"
    _user, password = console_service.create_user(db, account.name, "Ops@Example.com", None)
    form = browser.get("/console/login")
    response = browser.post(
        "/console/login",
        data={"csrf_token": csrf_of(form.text), "email": email, "password": password, "next": "/console"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/console"
    cookie = response.headers["set-cookie"].lower()
    assert (
        "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie and "path=/console" in cookie
    )
    page = browser.get("/console").text
    assert re.search(r'id="count-users">3<', page) and re.search(r'id="count-groups">1<', page)
    assert "no-store" in browser.get("/console").headers["cache-control"]


def test_a_wrong_password_is_refused_and_failures_are_throttled(db, browser, app_with, account):
    console_service.create_user(db, account.name, "ops@example.com", None)
    strict = app_with(token_failure_limit=2, public_base_url="http://testserver")
    form = strict.get("/console/login")
    token = csrf_of(form.text)
    statuses = [
        strict.post(
            "/console/login", data={"csrf_token": token, "email": "ops@example.com", "password": "nope"}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_a_login_form_without_its_csrf_token_is_refused(db, browser, account):
    _user, password = console_service.create_user(db, account.name, "ops@example.com", None)
    browser.get("/console/login")
    response = browser.post("/console/login", data={"email": "ops@example.com", "password": password})
    assert response.status_code == 403
    assert "console_session" not in str(browser.cookies)


def test_a_state_changing_post_without_the_csrf_token_is_refused(browser, sign_in, account, db):
    csrf = sign_in(account)
    assert browser.post("/console/logout", data={}).status_code == 403
    assert browser.post("/console/logout", data={"csrf_token": "forged"}).status_code == 403
    assert browser.get("/console").status_code == 200, "still signed in"
    assert browser.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 303


def test_logout_ends_the_session_on_the_server(db, browser, sign_in, account):
    csrf = sign_in(account)
    stolen = dict(browser.cookies)
    response = browser.post("/console/logout", data={"csrf_token": csrf})
    assert (response.status_code, response.headers["location"]) == (303, "/console/login")
    browser.cookies.update(stolen)
    assert browser.get("/console").status_code == 303, "the old cookie no longer signs in"


def test_an_expired_session_is_refused_whatever_the_cookie_says(db, browser, sign_in, account):
    sign_in(account)
    db.execute(ConsoleSession.__table__.update().values(expires_at=func.now()))
    db.flush()
    assert browser.get("/console").status_code == 303


def test_a_deleted_console_user_is_signed_out_at_once(db, browser, sign_in, account):
    sign_in(account)
    console_service.delete_user(db, f"{account.name}@example.com")
    assert browser.get("/console").status_code == 303
    assert db.scalar(select(func.count()).select_from(ConsoleSession)) == 0


def test_a_console_user_of_one_account_never_sees_another(db, browser, sign_in):
    a, b = factories.make_account(db), factories.make_account(db)
    factories.make_user(db, b, "secret-user", first_name="Bea")
    group = factories.make_group(db, b, "secret-group")
    channel = factories.make_channel(db, b, "secret-channel")
    factories.make_user(db, a, "own-user")
    sign_in(a)
    for path in (
        "/console/users/secret-user",
        "/console/groups/secret-group",
        "/console/channels/secret-channel",
    ):
        assert browser.get(path).status_code == 404, path
    for path in ("/console", "/console/organisation", "/console/channels"):
        text = browser.get(path).text
        assert "secret" not in text and b.name not in text, path
    assert group.id and channel.id


def test_a_sub_account_user_sees_only_that_sub_account(db, browser, sign_in):
    account = factories.make_account(db, sub_accounts=["EU", "US"])
    inside = factories.make_user(db, account, "eu-user")
    factories.make_user(db, account, "us-user")
    from enabley.models import SubAccount, UserSubAccount

    eu = db.scalar(select(SubAccount).where(SubAccount.account_id == account.id, SubAccount.name == "EU"))
    db.add(UserSubAccount(user_id=inside.id, sub_account_id=eu.id))
    db.flush()
    sign_in(account, "EU")
    listing = browser.get("/console/organisation").text
    assert "eu-user" in listing and "us-user" not in listing
    assert browser.get("/console/users/us-user").status_code == 404
    assert browser.get("/console/users/eu-user").status_code == 200


def test_organisation_search_uses_the_api_filters(db, browser, sign_in, client, auth, account):
    for name in ("alice", "alina", "bob"):
        factories.make_user(db, account, name, first_name=name.title(), first_name_key=name)
    sign_in(account)
    page = browser.get("/console/organisation", params={"firstNameSubstring": "ali"}).text
    api = client.get("/api/v3/users", params={"firstNameSubstring": "ali"}, headers=auth(account)).json()
    shown = re.findall(r'href="/console/users/([^"]+)"', page)
    assert shown == [u["identifier"] for u in api["items"]] == ["alice", "alina"]


def test_a_group_page_lists_its_members_and_the_tree_counts_them(db, browser, sign_in, account):
    parent = factories.make_group(db, account, "company")
    team = factories.make_group(db, account, "team", parent=parent)
    for n in range(2):
        factories.add_to_group(db, factories.make_user(db, account, f"m{n}").id, team)
    sign_in(account)
    tree = browser.get("/console/organisation?wait=1").text
    assert re.search(r'data-group="team"[^>]*>2<', tree) and re.search(r'data-group="company"[^>]*>0<', tree)
    assert browser.get("/console/figures").json()["groups"] == {"team": 2}
    page = browser.get("/console/groups/team").text
    assert 'id="member-count">2<' in page and "/console/users/m0" in page and "/console/users/m1" in page


def test_a_channel_page_draws_the_progress_distribution(db, browser, sign_in, client, auth, account):
    channel = factories.make_channel(db, account, "c1")
    for n in range(3):
        factories.enrol_user(db, channel, factories.make_user(db, account, f"l{n}"))
    sign_in(account)
    assert re.search(r'data-key="c1">…<', browser.get("/console/channels").text), "counted apart"
    assert browser.get("/console/figures").json()["channels"] == {"c1": 3}
    listing = browser.get("/console/channels?wait=1").text
    assert re.search(r'data-key="c1">3<', listing)
    assert re.search(r'id="count-learners" data-figure="learners">3<', browser.get("/console").text)
    page = browser.get("/console/channels/c1").text
    values = dict(re.findall(r'data-label="([^"]+)" data-value="(\d+)"', page))
    api = client.get("/api/v2/performance", params={"channelIdentifier": "c1"}, headers=auth(account)).json()
    assert values["0 %"] == str(len([r for r in api["items"] if r["progress"] == 0])) == "3"
