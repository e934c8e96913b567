"""The parsed shapes of SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2), and the value
conversions their evaluation shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from enabley.scim.schema import CORE_URNS

COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDER_OPS = frozenset({"gt", "ge", "lt", "le"})
TEXT_OPS = frozenset({"co", "sw", "ew"})

Value = str | int | float | bool | None


class FilterError(ValueError):
    """A filter or path that cannot be parsed or does not fit the schema (400 invalidFilter)."""


@dataclass(frozen=True)
class AttrPath:
    """An attribute path: an optional schema URN, an attribute and an optional sub-attribute,
    all lower-cased."""

    urn: str | None
    attr: str
    sub: str | None = None

    @property
    def name(self) -> str:
        """The attribute and sub-attribute without the URN: "name.givenname"."""
        return f"{self.attr}.{self.sub}" if self.sub else self.attr

    @property
    def dotted(self) -> str:
        """The canonical key: "name.givenname", or "urn:...:user:employeenumber" for an extension's
        attribute. A core schema's URN names the bare attribute, so it is dropped."""
        if self.urn is None or self.urn in CORE_URNS:
            return self.name
        return f"{self.urn}:{self.name}"


@dataclass(frozen=True)
class Compare:
    path: AttrPath
    op: str
    value: Value


@dataclass(frozen=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Not:
    inner: Filter


@dataclass(frozen=True)
class ValuePath:
    """``emails[type eq "work"]``: the inner filter's paths name sub-attributes of ``path``."""

    path: AttrPath
    filter: Filter


Filter = Compare | And | Or | Not | ValuePath


@dataclass(frozen=True)
class PatchPath:
    """A PATCH operation's target: ``members[value eq "u1"]``, ``emails[type eq "work"].value``."""

    path: AttrPath
    filter: Filter | None = None
    sub: str | None = None


_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?",
)


def parse_datetime(text: str) -> datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime (no offset means UTC), or None if it is not one.
    Digits past microseconds are dropped."""
    found = _RFC3339.fullmatch(text)
    if found is None:
        return None
    date, time, fraction, zone = found.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if zone is None or zone in "Zz" else zone
    try:
        return datetime.fromisoformat(f"{date}T{time}.{micro}{offset}").astimezone(UTC)
    except ValueError:
        return None


def coerce_boolean(value: Any) -> bool | None:
    """A boolean, also from the strings "true"/"false" in any case (as Entra ID sends them)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None
