"""One transaction per request: a request that fails after writing leaves nothing written."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from enabley.models import User
from enabley.users import service as users_service
from tests import factories


def test_a_request_that_fails_after_writing_leaves_nothing_written(app_with, db, account, monkeypatch):
    client = app_with()
    failing = TestClient(client.app, raise_server_exceptions=False)
    key, secret = factories.make_client(db, account)
    token = failing.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def written_then_failed(user, sub_account_names):
        # The creation is already flushed (its savepoint released) when the answer is built.
        raise RuntimeError("failure after the write")

    monkeypatch.setattr(users_service, "to_info", written_then_failed)
    response = failing.put("/api/v2/users", json={"identifier": "half-done"}, headers=headers)
    assert response.status_code == 500
    assert response.json() == {"error": "general_error", "error_description": "General error"}
    count = db.scalar(select(func.count()).select_from(User).where(User.external_id == "half-done"))
    assert count == 0
    monkeypatch.undo()
    assert failing.put("/api/v2/users", json={"identifier": "half-done"}, headers=headers).status_code == 201
