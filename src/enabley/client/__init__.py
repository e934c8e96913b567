"""Python SDK for the Enabley LMS integration API.

    from enabley.client import Client, UserData

    with Client("http://127.0.0.1:8000", client_key, secret) as client:
        user, created = client.users.upsert(UserData(identifier="ana-1", email="ana@example.com"))
        for user in client.users.iter(email_substring="@example.com"):
            print(user.identifier)

It talks HTTP to any compatible server and imports nothing of the server's code.
"""

from enabley.client._client import AsyncClient, Client
from enabley.client._transport import RetryPolicy
from enabley.client.errors import (
    Conflict,
    ConnectionFailed,
    EnableyError,
    InvalidRequest,
    InvalidResponse,
    ItemExists,
    ItemNotExists,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
)
from enabley.client.models import *  # noqa: F403
from enabley.client.models import __all__ as _models

__all__ = [
    "AsyncClient",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "EnableyError",
    "InvalidRequest",
    "InvalidResponse",
    "ItemExists",
    "ItemNotExists",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
    *_models,
]
