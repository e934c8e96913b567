"""Deliveries to a loopback receiver, each verified with the ``standardwebhooks`` library; the
worker's clock is set by the test, so retries days apart take no time."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from standardwebhooks import WebhookVerificationError

from enabley.db.bulk import Direct
from enabley.db.columns import utcnow
from enabley.events import log, stored
from enabley.models import Event, WebhookDelivery, WebhookEndpoint
from enabley.models.webhook import WebhookFanout
from enabley.uploads import row_events
from enabley.webhooks import fanout
from tests.webhooks.conftest import HOOKS, put_hook
from tests.webhooks.receiver import Reply


def deliveries(client, headers, identifier="crm"):
    return client.get(f"{HOOKS}/{identifier}/deliveries", headers=headers).json()["items"]


def emit(db, account, type_, **data):
    log.emit(db, account.id, type_, data)
    db.flush()


def test_a_test_event_is_delivered_signed(client, headers, receiver, driver):
    secret = put_hook(client, headers, receiver.url, eventTypes=["user.created"])["secret"]
    queued = client.post(f"{HOOKS}/crm/test", headers=headers)
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    driver().run()
    [got] = receiver.received
    payload = got.verify(secret)
    assert payload["type"] == "webhook.test" and payload["data"] == {"webhook": "crm"}
    assert got.id == payload["id"] == queued.json()["eventId"]
    assert got.headers["content-type"] == "application/json"
    [delivery] = deliveries(client, headers)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["lastStatusCode"] == 200 and delivery["nextAttempt"] is None and delivery["delivered"]


def test_a_wrong_secret_does_not_verify(client, headers, receiver, driver):
    put_hook(client, headers, receiver.url)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    driver().run()
    with pytest.raises(WebhookVerificationError):
        receiver.received[0].verify("whsec_" + "A" * 32)


def test_events_go_to_the_endpoints_whose_types_match(client, headers, account, db, receiver, driver):
    users = put_hook(client, headers, receiver.url + "/users", identifier="users", eventTypes=["user.*"])
    put_hook(client, headers, receiver.url + "/groups", identifier="groups", eventTypes=["group.deleted"])
    emit(db, account, "user.created", identifier="ana")
    emit(db, account, "group.created", identifier="g1")
    emit(db, account, "user.deleted", identifier="ana")
    driver().run()
    assert [r.path for r in receiver.received] == ["/hook/users", "/hook/users"]
    payloads = [r.verify(users["secret"]) for r in receiver.received]
    # Deliveries run concurrently: the order they arrive in is not promised.
    assert sorted((p["type"], p["data"]["identifier"]) for p in payloads) == [
        ("user.created", "ana"),
        ("user.deleted", "ana"),
    ]
    assert all(p["id"].startswith("evt_") and p["timestamp"].endswith("Z") for p in payloads)
    assert deliveries(client, headers, "groups") == []


def test_failures_are_retried_with_growing_waits_then_delivered(
    client, headers, account, db, receiver, driver
):
    secret = put_hook(client, headers, receiver.url)["secret"]
    receiver.reply = lambda r: Reply(500)
    emit(db, account, "user.created", identifier="ana")
    worker = driver()
    now = utcnow()
    worker.run(now)
    [first] = deliveries(client, headers)
    assert (first["status"], first["attempts"], first["lastStatusCode"]) == ("pending", 1, 500)
    assert "answered 500" in first["lastError"]
    waits = []
    for _ in range(4):
        due = db.scalar(select(WebhookDelivery.next_attempt_at))
        waits.append(due - now)
        worker.run(due - timedelta(milliseconds=1))
        assert len(receiver.received) == len(waits), "not attempted before it is due"
        now = due
        worker.run(now)
    assert waits[0] >= timedelta(seconds=2) and waits[-1] > waits[0] * 3, waits
    receiver.reply = lambda r: Reply(204)
    worker.run(db.scalar(select(WebhookDelivery.next_attempt_at)))
    [delivery] = deliveries(client, headers)
    assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == ("delivered", 6, 204)
    assert len({r.id for r in receiver.received}) == 1, "one webhook-id on every attempt"
    for got in receiver.received:
        got.verify(secret)


def test_retry_after_is_honoured(client, headers, receiver, driver, db):
    put_hook(client, headers, receiver.url)
    for status in (429, 503):
        receiver.reply = lambda r, status=status: Reply(status, (("Retry-After", "120"),))
        client.post(f"{HOOKS}/crm/test", headers=headers)
        now = utcnow()
        driver().run(now)
        due = db.scalar(select(WebhookDelivery.next_attempt_at).order_by(WebhookDelivery.id.desc()).limit(1))
        assert due == now + timedelta(seconds=120), status


def test_gone_disables_the_endpoint(client, headers, account, db, receiver, driver):
    put_hook(client, headers, receiver.url)
    receiver.reply = lambda r: Reply(410)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    worker = driver()
    worker.run()
    [delivery] = deliveries(client, headers)
    assert delivery["status"] == "failed" and delivery["lastStatusCode"] == 410
    endpoint = client.get(f"{HOOKS}/crm", headers=headers).json()
    assert endpoint["enabled"] is False and "410" in endpoint["disabledReason"]
    receiver.reply = lambda r: Reply(200)
    emit(db, account, "user.created", identifier="ana")
    client.post(f"{HOOKS}/crm/test", headers=headers)
    worker.run(utcnow() + timedelta(days=1))
    assert len(receiver.received) == 1, "a disabled endpoint is sent nothing"
    put_hook(client, headers, receiver.url)  # enabled again by its owner
    assert client.get(f"{HOOKS}/crm", headers=headers).json()["disabledReason"] is None
    worker.run()
    assert len(receiver.received) == 2, "enabled again, what is queued and due goes"


def test_a_timeout_counts_as_a_failure(client, headers, receiver, driver):
    put_hook(client, headers, receiver.url)
    receiver.reply = lambda r: Reply(200, delay=1.0)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    driver(webhook_timeout_seconds=0.2).run()
    [delivery] = deliveries(client, headers)
    assert delivery["status"] == "pending" and delivery["lastStatusCode"] is None
    assert "no answer within 0.2 s" in delivery["lastError"]


def test_a_refused_connection_is_retried(client, headers, receiver, driver):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    put_hook(client, headers, url)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    driver().run()
    [delivery] = deliveries(client, headers)
    assert delivery["status"] == "pending" and delivery["lastStatusCode"] is None
    assert "ConnectError" in delivery["lastError"]


def test_redirects_are_not_followed(client, headers, receiver, driver):
    put_hook(client, headers, receiver.url)
    receiver.reply = lambda r: Reply(302, (("Location", receiver.url + "/elsewhere"),))
    client.post(f"{HOOKS}/crm/test", headers=headers)
    driver().run()
    assert [r.path for r in receiver.received] == ["/hook"]
    assert deliveries(client, headers)[0]["lastStatusCode"] == 302


def test_after_three_days_a_delivery_fails(client, headers, receiver, driver, db):
    put_hook(client, headers, receiver.url)
    receiver.reply = lambda r: Reply(500)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    worker = driver()
    now = utcnow()
    worker.run(now)
    while (due := db.scalar(select(WebhookDelivery.next_attempt_at))) is not None and len(
        receiver.received
    ) < 40:
        db.expire_all()
        if deliveries(client, headers)[0]["status"] != "pending":
            break
        worker.run(due)
    [delivery] = deliveries(client, headers)
    assert delivery["status"] == "failed" and delivery["nextAttempt"] is None
    assert 10 <= delivery["attempts"] <= 30
    last = db.scalar(select(WebhookDelivery.last_attempt_at))
    assert timedelta(days=2) < last - now <= timedelta(days=3)


def test_five_days_without_a_success_disable_the_endpoint(client, headers, receiver, driver, db):
    put_hook(client, headers, receiver.url)
    receiver.reply = lambda r: Reply(500)
    worker = driver()
    now = utcnow()
    for day in range(6):
        client.post(f"{HOOKS}/crm/test", headers=headers)
        worker.run(now + timedelta(days=day, seconds=1))
    endpoint = client.get(f"{HOOKS}/crm", headers=headers).json()
    assert endpoint["enabled"] is False and "5 days" in endpoint["disabledReason"]


def test_a_success_resets_the_failure_streak(client, headers, receiver, driver, db):
    put_hook(client, headers, receiver.url)
    worker = driver()
    now = utcnow()
    for day, status in enumerate((500, 500, 200, 500, 500, 500)):
        receiver.reply = lambda r, status=status: Reply(status)
        client.post(f"{HOOKS}/crm/test", headers=headers)
        worker.run(now + timedelta(days=day, seconds=1))
    assert client.get(f"{HOOKS}/crm", headers=headers).json()["enabled"] is True
    assert db.scalar(select(WebhookEndpoint.failing_since)) is not None


def test_during_rotation_both_secrets_verify(client, headers, receiver, driver):
    old = put_hook(client, headers, receiver.url)["secret"]
    new = client.post(f"{HOOKS}/crm/rotateSecret", headers=headers).json()["secret"]
    client.post(f"{HOOKS}/crm/test", headers=headers)
    worker = driver()
    worker.run()
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    got.verify(old)
    got.verify(new)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    worker.run(utcnow() + timedelta(hours=24, seconds=1))
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    got.verify(new)
    with pytest.raises(WebhookVerificationError):
        got.verify(old)


def test_replay_sends_the_matching_events_again(client, headers, account, db, receiver, driver):
    secret = put_hook(client, headers, receiver.url, eventTypes=["user.*"])["secret"]
    start = utcnow()
    for type_ in ("user.created", "group.created", "user.updated"):
        emit(db, account, type_, identifier="x")
    worker = driver()
    worker.run()
    assert len(receiver.received) == 2
    replay = client.post(
        f"{HOOKS}/crm/replay", params={"since": start.isoformat().replace("+00:00", "Z")}, headers=headers
    )
    assert replay.status_code == 202 and replay.json()["queued"] == 2
    worker.run()
    ids = [r.id for r in receiver.received]
    assert len(ids) == 4 and sorted(ids[2:]) == sorted(ids[:2]), "the same events, under their own ids"
    assert sorted(r.verify(secret)["type"] for r in receiver.received[2:]) == ["user.created", "user.updated"]
    later = client.post(
        f"{HOOKS}/crm/replay",
        params={"since": (utcnow() + timedelta(minutes=1)).isoformat()},
        headers=headers,
    )
    assert later.json()["queued"] == 0


def test_a_failed_delivery_can_be_retried_by_hand(client, headers, receiver, driver):
    put_hook(client, headers, receiver.url)
    receiver.reply = lambda r: Reply(410)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    worker = driver()
    worker.run()
    [failed] = deliveries(client, headers)
    assert failed["status"] == "failed"
    receiver.reply = lambda r: Reply(200)
    put_hook(client, headers, receiver.url)
    retried = client.post(f"{HOOKS}/deliveries/{failed['id']}/retry", headers=headers)
    assert retried.status_code == 202 and retried.json()["status"] == "pending"
    worker.run()
    [delivered] = deliveries(client, headers)
    assert delivered["status"] == "delivered" and delivered["attempts"] == 2
    assert client.post(f"{HOOKS}/deliveries/dlv_nope/retry", headers=headers).status_code == 404


def test_metrics_count_outcomes_and_watch_the_queue(client, headers, receiver, driver, db):
    from prometheus_client import REGISTRY

    from enabley.webhooks import metrics

    def delivered() -> float:
        return REGISTRY.get_sample_value("enabley_webhook_deliveries_total", {"outcome": "delivered"}) or 0.0

    put_hook(client, headers, receiver.url)
    before = delivered()
    client.post(f"{HOOKS}/crm/test", headers=headers)
    client.post(f"{HOOKS}/crm/test", headers=headers)
    now = utcnow()
    assert metrics.observe_queue(db, now + timedelta(seconds=10))[0] >= 2
    assert REGISTRY.get_sample_value("enabley_webhook_oldest_undelivered_seconds") >= 10
    driver().run()
    assert delivered() == before + 2
    depth, age = metrics.observe_queue(db, utcnow())
    assert (depth, age) == (0, 0.0)


def test_ended_deliveries_are_forgotten_after_thirty_days(client, headers, receiver, driver, db):
    from enabley.webhooks.delivery import purge_finished

    put_hook(client, headers, receiver.url)
    failing = client.post(f"{HOOKS}/crm/test", headers=headers).json()["eventId"]
    client.post(f"{HOOKS}/crm/test", headers=headers)
    receiver.reply = lambda r: Reply(500 if r.id == failing else 200)
    now = utcnow()
    driver().run(now)
    assert purge_finished(db, now + timedelta(days=29)) == 0
    assert purge_finished(db, now + timedelta(days=31)) == 1, "the pending one stays"
    assert [d["status"] for d in deliveries(client, headers)] == ["pending"]


def test_each_event_of_a_bundle_is_delivered_and_replayed(client, headers, account, db, receiver, driver):
    """A bundle (an upload's events of one type) gives a delivery an event, with the event's own
    id and data, as the feed shows it; replay sends them again."""
    secret = put_hook(client, headers, receiver.url, eventTypes=["group.member_added"])["secret"]
    start = utcnow()
    pairs = [["g", f"u{i}"] for i in range(5)]
    table = stored.Table.of_rows("group.member_added", row_events.MEMBERSHIP_KEYS, pairs, {})
    log.emit_encoded(Direct.of(db), account.id, stored.encode(table))
    emit(db, account, "user.created", identifier="ana")
    worker = driver()
    worker.run()
    payloads = [r.verify(secret) for r in receiver.received]
    assert sorted(p["data"]["userIdentifier"] for p in payloads) == [f"u{i}" for i in range(5)]
    feed = client.get("/api/admin/v1/events", params={"types": "group.*"}, headers=headers).json()["items"]
    assert sorted(payloads, key=lambda p: p["id"]) == feed
    assert {r.id for r in receiver.received} == {e["id"] for e in feed}
    replay = client.post(
        f"{HOOKS}/crm/replay", params={"since": start.isoformat().replace("+00:00", "Z")}, headers=headers
    )
    assert replay.json()["queued"] == 5
    worker.run()
    assert sorted(r.id for r in receiver.received[5:]) == sorted(e["id"] for e in feed)


def test_the_fan_out_takes_whole_bundles_up_to_its_batch(db, account):
    log.emit_encoded(
        Direct.of(db),
        account.id,
        [
            ("user.deleted", '{"identifier":"x","type":"user"}', 1),
            *stored.encode(stored.Table.of_rows("t.x", ("a",), [[i] for i in range(5)], {})),
            ("user.deleted", '{"identifier":"y","type":"user"}', 1),
        ],
    )
    conn = db.connection()
    log.number_waiting(conn)
    db.execute(update(WebhookFanout).values(position=select(func.max(Event.position)).scalar_subquery() - 7))
    assert fanout.fan_out(db, utcnow(), batch=3) == 6  # the plain event and the whole bundle
    assert fanout.fan_out(db, utcnow(), batch=3) == 1
    assert fanout.fan_out(db, utcnow(), batch=3) == 0
