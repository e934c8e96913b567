"""A create that loses a race to a concurrent creator of the same identifier becomes an update."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from enabley.catalog import service as catalog_service
from enabley.channels import items, service
from enabley.channels.schemas import ChannelData, ContentItemData, MasterChannelData
from enabley.errors import ItemExists
from enabley.models import Channel, ChannelItem


def _blind_once(monkeypatch, module, name, blind):
    """Make ``module.name`` miss once, as if a concurrent request had not yet committed."""
    real = getattr(module, name)
    calls = {"n": 0}

    def patched(*args):
        calls["n"] += 1
        return blind(real(*args)) if calls["n"] == 1 else real(*args)

    monkeypatch.setattr(module, name, patched)
    return calls


def _channel(db, account, identifier, **fields):
    channel = Channel(account_id=account.id, external_id=identifier, name="First", categories=[], **fields)
    db.add(channel)
    db.flush()
    return channel


def test_channel_created_meanwhile(db, account, monkeypatch):
    _channel(db, account, "c1")
    calls = _blind_once(monkeypatch, service, "_find", lambda _: None)
    channel, created = service.upsert_channel(
        db, SimpleNamespace(account_id=account.id), ChannelData(identifier="c1", name="Second")
    )
    assert (created, channel.name, calls["n"] >= 2) == (False, "Second", True)


def test_master_created_meanwhile_under_an_ordinary_channel(db, account, monkeypatch):
    _channel(db, account, "c1")
    _blind_once(monkeypatch, service, "_find", lambda _: None)
    with pytest.raises(ItemExists):
        service.upsert_master(
            db, SimpleNamespace(account_id=account.id), MasterChannelData(identifier="c1", name="Master")
        )


def test_content_item_created_meanwhile(db, account, monkeypatch):
    channel = _channel(db, account, "c1")
    db.add(
        ChannelItem(account_id=account.id, channel_id=channel.id, external_id="i1", kind="CONTENT", name="x")
    )
    db.flush()
    _blind_once(monkeypatch, items, "_find", lambda _: None)
    item, created = items.upsert_content_item(
        db, SimpleNamespace(account_id=account.id), "c1", ContentItemData(identifier="i1", name="Renamed")
    )
    assert (created, item.name) == (False, "Renamed")


def test_catalog_entry_created_meanwhile(client, headers, db, account, monkeypatch):
    r = client.put("/api/v1/channels", json={"identifier": "c1", "name": "x"}, headers=headers)
    assert r.status_code == 201
    first = client.put("/api/admin/v1/catalog/c1", headers=headers).json()
    _blind_once(monkeypatch, catalog_service, "_find", lambda found: (*found[:2], None))
    r = client.put("/api/admin/v1/catalog/c1", headers=headers)
    assert (r.status_code, r.json()) == (200, first)
