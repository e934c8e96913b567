"""Webhook endpoints, their deliveries and the change feed through the SDK, against the application."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from enabley.client import (
    AsyncClient,
    DeliveryStatus,
    EventPage,
    InvalidRequest,
    NotFound,
    UserData,
    WebhookData,
    WebhookInfo,
)
from tests.client.conftest import BASE_URL

URL = "http://127.0.0.1:9/enabley"  # never called: no worker runs in these tests


def _users(sdk, *identifiers):
    for identifier in identifiers:
        sdk.users.upsert(UserData(identifier=identifier, email=f"{identifier}@acme.example.com"))


def test_endpoints_are_created_updated_listed_and_deleted(sdk, page_size):
    page_size(2)
    hook, created = sdk.admin.webhooks.upsert(WebhookData(identifier="crm", url=URL, event_types=["user.*"]))
    assert created is True and isinstance(hook, WebhookInfo)
    assert hook.secret is not None and hook.secret.startswith("whsec_")
    assert (hook.event_types, hook.enabled, hook.disabled_reason) == (["user.*"], True, None)

    updated, created = sdk.admin.webhooks.upsert({"identifier": "crm", "url": URL, "description": "CRM"})
    assert created is False and updated.secret is None and updated.description == "CRM"
    assert sdk.admin.webhooks.get("crm").url == URL

    for n in range(2):
        sdk.admin.webhooks.upsert(WebhookData(identifier=f"hook {n}?x", url=URL, enabled=False))
    first = sdk.admin.webhooks.list()
    assert [h.identifier for h in first.items] == ["crm", "hook 0?x"] and first.pagination_key
    assert [h.identifier for h in sdk.admin.webhooks.list(first.pagination_key).items] == ["hook 1?x"]
    assert [len(p.items) for p in sdk.admin.webhooks.pages()] == [2, 1]
    assert [h.enabled for h in sdk.admin.webhooks.iter()] == [True, False, False]

    sdk.admin.webhooks.delete("hook 1?x")  # identifiers are percent-encoded in the path
    with pytest.raises(NotFound):
        sdk.admin.webhooks.get("hook 1?x")
    with pytest.raises(InvalidRequest):
        sdk.admin.webhooks.upsert(WebhookData(identifier="bad", url="ftp://example.com/"))


def test_secret_rotation_test_event_deliveries_retry_and_replay(sdk, page_size):
    before = datetime.now(UTC) - timedelta(minutes=1)
    first, _ = sdk.admin.webhooks.upsert(WebhookData(identifier="crm", url=URL, event_types=["user.*"]))
    rotated = sdk.admin.webhooks.rotate_secret("crm")
    assert rotated.secret and rotated.secret != first.secret
    assert rotated.previous_secret_expires is not None

    test = sdk.admin.webhooks.send_test("crm")
    assert (test.event_type, test.status, test.attempts) == ("webhook.test", DeliveryStatus.PENDING, 0)
    assert test.id.startswith("dlv_") and test.delivered is None
    retried = sdk.admin.webhooks.retry_delivery(test.id)
    assert (retried.id, retried.status) == (test.id, DeliveryStatus.PENDING)

    _users(sdk, "ana", "bo")
    # Replay sends the events the feed has numbered: reading the feed numbers them (as the worker does).
    assert len(list(sdk.admin.events.iter())) == 2
    replayed = sdk.admin.webhooks.replay("crm", before)
    assert replayed.queued == 2 and replayed.since <= datetime.now(UTC)

    page_size(2)
    page = sdk.admin.webhooks.deliveries("crm")
    assert len(page.items) == 2 and page.pagination_key
    deliveries = list(sdk.admin.webhooks.iter_deliveries("crm"))
    assert deliveries[0].id == test.id
    assert len({d.id for d in deliveries}) == len(deliveries)
    assert [d.event_type for d in deliveries].count("user.created") >= 2
    with pytest.raises(NotFound):
        sdk.admin.webhooks.retry_delivery("dlv_missing")


def test_the_change_feed_reads_on_from_its_cursor(sdk):
    assert sdk.admin.events.read() == EventPage(items=[], next_cursor=None)
    _users(sdk, "u1", "u2", "u3")
    sdk.groups.upsert({"identifier": "g", "name": "G"})
    pages = list(sdk.admin.events.pages(types=["user.*"], limit=2))
    assert [len(p.items) for p in pages] == [2, 1, 0]
    assert [e.data["identifier"] for p in pages for e in p.items] == ["u1", "u2", "u3"]
    # The empty page that ends a read keeps the cursor: polling from it finds what follows.
    _users(sdk, "late")
    assert [e.type for e in sdk.admin.events.iter(after=pages[-1].next_cursor, types="user.*")] == [
        "user.created"
    ]
    assert {e.type for e in sdk.admin.events.iter()} >= {"user.created", "group.created"}


def test_async_webhooks_and_events_against_the_application(app, client, credentials):
    key, secret = credentials

    async def scenario() -> None:
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app))
        async with http, AsyncClient(BASE_URL, key, secret, http=http) as sdk:
            hook, created = await sdk.admin.webhooks.upsert(WebhookData(identifier="crm", url=URL))
            assert created and hook.event_types == ["*"]
            assert (await sdk.admin.webhooks.get("crm")).identifier == "crm"
            assert [h.identifier async for h in sdk.admin.webhooks.iter()] == ["crm"]
            assert [len(p.items) async for p in sdk.admin.webhooks.pages()] == [1]
            assert (await sdk.admin.webhooks.list()).items[0].identifier == "crm"
            assert (await sdk.admin.webhooks.rotate_secret("crm")).secret
            test = await sdk.admin.webhooks.send_test("crm")
            assert (await sdk.admin.webhooks.retry_delivery(test.id)).id == test.id
            assert [d.id async for d in sdk.admin.webhooks.iter_deliveries("crm")] == [test.id]
            assert (await sdk.admin.webhooks.deliveries("crm")).items[0].id == test.id
            await sdk.users.upsert(UserData(identifier="ana", email="ana@acme.example.com"))
            page = await sdk.admin.events.read(types="user.*")
            assert [e.type for e in page.items] == ["user.created"]
            assert [e.type async for e in sdk.admin.events.iter(types=["user.*"])] == ["user.created"]
            assert [len(p.items) async for p in sdk.admin.events.pages(page.next_cursor)] == [0]
            since = datetime.now(UTC) - timedelta(minutes=1)
            assert (await sdk.admin.webhooks.replay("crm", since)).queued == 1  # the user.created
            await sdk.admin.webhooks.delete("crm")
            with pytest.raises(NotFound):
                await sdk.admin.webhooks.get("crm")

    asyncio.run(scenario())
