"""A call, described once and sent by either client: method, path, parameters, body, and how to
read the answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx2
from pydantic import BaseModel, TypeAdapter

from enabley.client.models._base import DataModel, Page, Upserted, format_timestamp

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
D = TypeVar("D", bound=DataModel)

QueryValue = str | int | bool | datetime | Enum | Sequence[str | Enum] | None

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Progress = Callable[[int, int], None]
"""``progress(bytes_sent, bytes_total)``, called as a request body goes out."""


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[httpx2.Response], T]
    params: Mapping[str, QueryValue] = field(default_factory=dict)
    json: Any = None
    idempotent: bool | None = None
    """Whether sending it twice is harmless; by default every method but POST is."""
    authenticated: bool = True
    timeout: float | None = None
    progress: Progress | None = None

    @property
    def keyed(self) -> bool:
        """Sent with an ``Idempotency-Key`` (the same one on each retry): a write of the API, unless
        declared harmless to repeat (the read-only POSTs, which a key would only slow down)."""
        return self.authenticated and self.method in WRITE_METHODS and self.idempotent is not True

    @property
    def safe_to_repeat(self) -> bool:
        """A keyed call is: the server runs it once, and answers its retries with the first answer."""
        if self.keyed:
            return True
        return self.idempotent if self.idempotent is not None else self.method != "POST"

    def query(self) -> list[tuple[str, str | int | float | bool | None]]:
        """The query string's pairs: ``None`` left out, booleans as ``true``/``false``, lists repeated."""
        pairs: list[tuple[str, str | int | float | bool | None]] = []
        for name, value in self.params.items():
            values: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
            pairs.extend((name, _text(v)) for v in values if v is not None)
        return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def path(template: str, *identifiers: str) -> str:
    """``template`` with each ``{}`` replaced by an identifier, percent-encoded (``/`` included)."""
    return template.format(*(quote(str(identifier), safe="") for identifier in identifiers))


def body(model: type[D], value: D | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of a ``...Data`` model, given as the model or as a mapping of its fields."""
    data = value if isinstance(value, model) else model.model_validate(value)
    return data.wire()


def model(cls: type[M]) -> Callable[[httpx2.Response], M]:
    return lambda response: cls.model_validate_json(response.content)


def page(cls: type[M]) -> Callable[[httpx2.Response], Page[M]]:
    return model(Page[cls])  # type: ignore[valid-type]


def list_of(cls: type[T]) -> Callable[[httpx2.Response], list[T]]:
    adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]
    return lambda response: adapter.validate_json(response.content)


def upserted(cls: type[M]) -> Callable[[httpx2.Response], Upserted[M]]:
    """The item, and whether it was created: 201 says created, 200 updated."""
    return lambda response: Upserted(cls.model_validate_json(response.content), response.status_code == 201)


def nothing(_response: httpx2.Response) -> None:
    return None


def content(response: httpx2.Response) -> bytes:
    return response.content
