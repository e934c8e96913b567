"""Settings, read from the environment (prefix ``ENABLEY_``) and nowhere else."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import annotated_types
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENABLEY_", extra="ignore", frozen=True)

    database_url: str = "sqlite:///./enabley.db"
    """SQLAlchemy URL: ``sqlite:///path`` or ``postgresql+psycopg://user@host/db``."""

    token_ttl_seconds: int = Field(3600, ge=60, le=86400)
    page_size: int = Field(100, ge=1, le=1000)
    public_base_url: str = "http://127.0.0.1:8000"
    jwt_secret: SecretStr | None = None
    """When unset, signing keys are generated on first start and kept in the database."""

    jwt_issuer: str = "enabley"
    jwt_audience: str = "enabley-api"
    pagination_key_ttl_seconds: int = Field(86400, ge=60)

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    """Limit for ordinary request bodies; the bulk upload has its own."""

    max_upload_bytes: int = Field(100 * 1024 * 1024, ge=1024)
    max_concurrent_uploads: int = Field(2, ge=1)
    """Bulk uploads a process runs at once; one more is refused (429) before its body is read.
    Each holds a few megabytes of memory, temporary disk space up to twice its body, a thread
    and a database connection while it runs."""

    db_pool_size: int = Field(10, ge=1)
    db_timeout_seconds: float = Field(5.0, gt=0)
    """How long a request may wait for the database before answering 503."""
    statement_timeout_seconds: float = Field(10.0, gt=0)
    """How long one database statement of a request may run before it is stopped (503)."""

    cert_expiry_warning_days: int = Field(30, ge=0)
    event_retention_days: int = Field(30, ge=1)
    """How long the change feed keeps events; a cursor older than that answers 410."""

    console_session_hours: int = Field(8, ge=1, le=720)
    """How long a console sign-in lasts, whatever the browser does with its cookie."""

    rate_limit: float = Field(100.0, ge=0)
    """Requests per second each API client may make, on average, and apart from them token
    requests per second it may make; 0 turns the limit off."""
    rate_limit_burst: int = Field(200, ge=1)
    """How many requests a client may make at once before the average applies."""
    redis_url: str | None = None
    """When set, rate limits and failed-login counts are shared by every process through Redis."""
    token_failure_limit: int = Field(10, ge=1)
    """Failed token requests for one clientKey from one address before that address is refused
    that key (429) for the rest of the window."""
    token_failure_address_limit: int = Field(50, ge=1)
    """Failed token requests from one address, whatever the clientKeys, before it is refused
    every key (429) for the rest of the window."""
    token_failure_key_limit: int = Field(100, ge=1)
    """Failed token requests for one clientKey from all addresses together before the key counts
    as under attack: each address then gets one failure on it per window instead of
    ``token_failure_limit``. The key itself is never locked: its owner keeps getting tokens."""
    token_failure_window_seconds: int = Field(300, ge=1)
    anonymous_rate_limit: float = Field(10.0, ge=0)
    """Requests per second each client address may make without a valid bearer token (failed
    token requests, unknown routes, probes); 0 turns the limit off. A request with a valid token
    counts against its API client instead, and so does a token request that succeeds."""
    anonymous_rate_limit_burst: int = Field(100, ge=1)
    pdf_rate_limit: float = Field(1.0, ge=0)
    """Certificate PDFs each client address may fetch per second (each render costs tens of
    milliseconds of CPU); 0 turns the limit off."""
    pdf_rate_limit_burst: int = Field(20, ge=1)

    webhook_allow_private_networks: bool = False
    """Deliver webhooks to loopback, private, link-local and multicast addresses too (a receiver on
    the same machine or network); off, such a URL is refused at creation and at each delivery."""
    webhook_timeout_seconds: float = Field(15.0, gt=0)
    """How long one webhook attempt may take, connection included, before it counts as failed."""
    webhook_concurrency: int = Field(50, ge=1)
    """Webhook attempts one worker process keeps in flight at once."""

    access_log: bool = True
    """One JSON line per request on stderr."""

    header_timeout_seconds: float = Field(10.0, gt=0)
    """How long a client may take to send a request's line and headers (408 and close after)."""
    body_timeout_seconds: float = Field(10.0, gt=0)
    body_min_bytes_per_second: int = Field(1024, ge=1)
    """A body must arrive within ``body_timeout_seconds`` plus one second per this many bytes
    received (408 and close after): a slow client can't hold a connection."""
    max_connections: int = Field(512, ge=1)
    """Connections per process, well under the usual limit of 1,024 open files: the rest are
    left to the database and files. Beyond it the longest-idle connection is closed."""


class SettingsError(ValueError):
    """A setting in the environment that can't be used; the message is one line naming it."""


def _expected(name: str) -> str:
    """What a setting takes, in words: its type and bounds."""
    field = Settings.model_fields[name]
    kinds: dict[object, str] = {int: "an integer", float: "a number", bool: "true or false"}
    kind = kinds.get(field.annotation, "text")
    bounds = {type(m): getattr(m, type(m).__name__.lower()) for m in field.metadata}
    low = bounds.get(annotated_types.Ge)
    high = bounds.get(annotated_types.Le)
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}"
    if low is not None:
        return f"{kind} of at least {low}"
    if (above := bounds.get(annotated_types.Gt)) is not None:
        return f"{kind} greater than {above}"
    return kind


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming every environment variable that was refused and what it takes."""
    problems: list[str] = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if name not in Settings.model_fields:
            problems.append(str(error["msg"]))
            continue
        expected = _expected(name)
        # Text settings may hold a password (a database or Redis URL): their value is not repeated.
        value: Any = error.get("input")
        shown = "" if expected == "text" else f"={value!s}"
        problems.append(f"ENABLEY_{name.upper()}{shown} is not valid: it takes {expected}")
    return "; ".join(problems)


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(exc)) from None
