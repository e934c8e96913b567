"""The tenants a process remembers (which account a clientKey stands for) are bounded: a full
table forgets the client that called least recently, never every client at once."""

from __future__ import annotations

from enabley import deps
from tests import factories


def test_a_full_tenant_cache_forgets_only_the_client_used_least_recently(app_with, db, monkeypatch):
    monkeypatch.setattr(deps, "MAX_CACHED_TENANTS", 2)
    client = app_with()
    tenants = client.app.state.context.tenants
    keys, headers = {}, {}
    for name in ("a", "b", "c"):
        key, secret = factories.make_client(db, factories.make_account(db))
        token = client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()
        keys[name], headers[name] = key, {"Authorization": f"Bearer {token['access_token']}"}
    for name in ("a", "b", "a", "c"):
        assert client.get("/api/admin/v1/workspaces", headers=headers[name]).status_code == 200
    assert set(tenants) == {keys["a"], keys["c"]}
