"""A browser-like client of the console: cookies kept, over HTTPS (the tests' public base URL is
https, so the session cookie is Secure and only sent back over HTTPS)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from enabley.console import figures
from enabley.console import service as console_service

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def browser_http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def browser(db: Session, browser_http: TestClient) -> Iterator[TestClient]:
    # Each test's rolled-back transaction gives its accounts the ids of the test before.
    figures._CACHE.clear()
    browser_http.cookies.clear()
    yield browser_http
    browser_http.cookies.clear()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, html[:500]
    return found.group(1)


@pytest.fixture
def sign_in(db: Session, browser: TestClient) -> Callable[..., str]:
    """``sign_in(account, sub_account=None)``: a new console user of the account, signed in;
    returns the session's CSRF token."""

    def login(account: Any, sub_account: str | None = None) -> str:
        email = f"{account.name}@example.com"
        _user, password = console_service.create_user(db, account.name, email, sub_account)
        form = browser.get("/console/login")
        response = browser.post(
            "/console/login",
            data={"csrf_token": csrf_of(form.text), "email": email, "password": password, "next": "/console"},
        )
        assert response.status_code == 303, response.text
        return csrf_of(browser.get("/console").text)

    return login


def make_webhook(db: Session, account: Any, identifier: str = "hook") -> Any:
    from enabley.models import WebhookEndpoint

    endpoint = WebhookEndpoint(
        account_id=account.id,
        external_id=identifier,
        url="https://hooks.example.com/enabley",
        event_types=["user.*"],
        sealed_secret="sealed",
    )
    db.add(endpoint)
    db.flush()
    return endpoint


def make_delivery(db: Session, endpoint: Any, public_id: str, status: str) -> Any:
    from datetime import UTC, datetime

    from enabley.models import WebhookDelivery

    now = datetime.now(UTC)
    delivery = WebhookDelivery(
        account_id=endpoint.account_id,
        public_id=public_id,
        endpoint_id=endpoint.id,
        message_id=f"evt_{public_id}",
        event_type="user.created",
        payload="{}",
        status=status,
        attempts=3 if status == "failed" else 1,
        last_status_code=500 if status == "failed" else 200,
        next_attempt_at=now,
        retry_until=now,
    )
    db.add(delivery)
    db.flush()
    return delivery
