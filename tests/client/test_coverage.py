"""Guard rails: the SDK has a method for every operation of the application's OpenAPI document, and
imports nothing of the server."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import subprocess
import sys
import typing
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from pydantic import BaseModel

from enabley.client import AsyncClient, Client, EnableyError
from tests.client.mock import Script, error

# Arguments whose dummy value must be of a particular shape.
DUMMIES: dict[str, Any] = {
    "permissions": ["INSTRUCTOR_CREATE_COURSE"],
    "roles": ["LEARNER"],
    "files": [("users.csv", "identifier\n")],
    "types": ["Region"],
    "identifiers": ["p"],
    "is_active": True,
    "is_required": True,
}


def _resources(root: Any, prefix: str = "client") -> Iterator[tuple[str, Any]]:
    for name, value in vars(root).items():
        if name.startswith("_"):
            continue
        if hasattr(value, "_engine"):
            yield f"{prefix}.{name}", value
        elif type(value).__module__.startswith("enabley.client.resources"):
            yield from _resources(value, f"{prefix}.{name}")


def _dummy(method: Any, parameter: inspect.Parameter) -> Any:
    if parameter.name in DUMMIES:
        return DUMMIES[parameter.name]
    hint = typing.get_type_hints(method)[parameter.name]
    for option in typing.get_args(hint) or (hint,):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option.model_construct()
    return "x"


def _methods(client: Any) -> Iterator[tuple[str, Any, list[Any]]]:
    for where, resource in _resources(client):
        for name, method in inspect.getmembers(resource, inspect.ismethod):
            if name.startswith("_"):
                continue
            params = inspect.signature(method).parameters.values()
            required = [p for p in params if p.default is inspect.Parameter.empty and p.kind != p.VAR_KEYWORD]
            yield f"{where}.{name}", method, [_dummy(method, p) for p in required]


def _call_sync(method: Any, args: list[Any]) -> None:
    result = method(*args)
    if inspect.isgenerator(result):
        next(result)


def _call_async(method: Any, args: list[Any]) -> None:
    async def run() -> None:
        result = method(*args)
        if inspect.isasyncgen(result):
            await anext(result)
        else:
            await result

    asyncio.run(run())


def _requests_per_method(make: Any, call: Any) -> dict[str, tuple[str, str]]:
    """Each public SDK method, called with dummy arguments, and the request it sent."""
    script = Script()
    client = make(script)
    sent: dict[str, tuple[str, str]] = {}
    for name, method, args in _methods(client):
        script.answers.append(error(404, "not_found"))
        before = len(script.requests)
        with pytest.raises(EnableyError):
            call(method, args)
        [request] = [r for r in script.requests[before:] if r.url.path != "/api/v1/token"]
        sent[name] = (request.method, request.url.raw_path.decode().split("?")[0])
    return sent


def _operation(operations: set[tuple[str, str]], method: str, path: str) -> tuple[str, str] | None:
    """The documented operation a request is for (a literal segment beats a parameter)."""
    matches = [
        (template.count("{"), (m, template))
        for m, template in operations
        if m == method and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path)
    ]
    return min(matches)[1] if matches else None


def _sync_client(script: Script) -> Client:
    return Client("http://api.test", "k", "s", http=httpx2.Client(transport=httpx2.MockTransport(script)))


def _async_client(script: Script) -> AsyncClient:
    transport = httpx2.MockTransport(script)
    return AsyncClient("http://api.test", "k", "s", http=httpx2.AsyncClient(transport=transport))


@pytest.mark.parametrize(
    ("make", "call"),
    [(_sync_client, _call_sync), (_async_client, _call_async)],
    ids=["Client", "AsyncClient"],
)
def test_every_operation_of_the_openapi_document_has_an_sdk_method(app, make, call):
    operations = {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if path.startswith("/api/")
    }
    sent = _requests_per_method(make, call)
    covered = {_operation(operations, method, path) for method, path in sent.values()}
    covered.add(("POST", "/api/v1/token"))  # every client's first request
    missing = sorted(operations - covered)
    assert missing == [], f"operations without an SDK method: {missing}"


def test_sync_and_async_clients_offer_the_same_methods():
    def names(client: Any) -> set[str]:
        return {name for name, _, _ in _methods(client)}

    assert names(_sync_client(Script())) == names(_async_client(Script()))


SERVER_SIDE = re.compile(r"^(enabley(?!\.client)\.|fastapi|starlette|sqlalchemy|alembic|uvicorn)")


def test_the_sdk_imports_nothing_of_the_server():
    code = "import enabley.client, json, sys; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    assert "enabley.client" in loaded
    assert [name for name in loaded if SERVER_SIDE.match(name)] == []
