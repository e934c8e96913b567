"""A scripted server for the transport tests: an httpx2 MockTransport that answers in turn."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

Answer = httpx2.Response | Callable[[httpx2.Request], httpx2.Response]

TOKEN_PATH = "/api/v1/token"


def token(n: int, expires_in_ms: int = 3_600_000) -> httpx2.Response:
    return httpx2.Response(
        200, json={"access_token": f"t{n}", "expires_in": expires_in_ms, "token_type": "bearer"}
    )


def error(status: int, code: str, description: str = "", **extra: Any) -> httpx2.Response:
    headers = {k.replace("_", "-"): str(v) for k, v in extra.pop("headers", {}).items()}
    body = {"error": code, "error_description": description or code, **extra}
    return httpx2.Response(status, json=body, headers=headers)


def ok(body: Any = None, status: int = 200) -> httpx2.Response:
    if body is None:
        return httpx2.Response(status)
    return httpx2.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


def fail_with(exc_type: type[httpx2.TransportError]) -> Callable[[httpx2.Request], httpx2.Response]:
    def raise_it(request: httpx2.Request) -> httpx2.Response:
        raise exc_type("scripted failure", request=request)

    return raise_it


class Script:
    """Answers token requests from ``tokens`` (default: a fresh token each time) and every other
    request from ``answers``, in order. Records what it was sent."""

    def __init__(self, *answers: Answer, tokens: list[Answer] | None = None) -> None:
        self.answers = list(answers)
        self.tokens = tokens
        self.requests: list[httpx2.Request] = []
        self.issued = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if request.url.path == TOKEN_PATH:
            self.issued += 1
            answer: Answer = self.tokens.pop(0) if self.tokens else token(self.issued)
        else:
            assert self.answers, f"unexpected request {request.method} {request.url}"
            answer = self.answers.pop(0)
        return answer(request) if callable(answer) else answer

    @property
    def calls(self) -> list[str]:
        """``METHOD path`` of each request but the token requests."""
        return [f"{r.method} {r.url.path}" for r in self.requests if r.url.path != TOKEN_PATH]

    @property
    def bearers(self) -> list[str]:
        return [r.headers.get("authorization", "") for r in self.requests if r.url.path != TOKEN_PATH]


def user(identifier: str = "ana") -> dict[str, Any]:
    stamp = "2026-01-02T03:04:05.678Z"
    return {
        "address": None,
        "created": stamp,
        "customAttributes": None,
        "email": None,
        "firstName": None,
        "identifier": identifier,
        "isActive": True,
        "lastName": None,
        "modified": stamp,
        "phone": None,
        "possibleRoles": [],
        "userSubAccountNames": [],
        "username": None,
    }
