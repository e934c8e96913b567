"""Webhook URLs may not reach the server's own network (server-side request forgery).

A URL whose host resolves to a loopback, private, link-local, multicast or otherwise non-global
address is refused when an endpoint is saved, and again at each delivery, where the check sits in
the connection itself (``GuardedBackend``): the address connected to is the address checked, so a
name that resolves to a public address at creation and to 127.0.0.1 later (DNS rebinding) is
refused too. ``ENABLEY_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`` lifts the rule.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from httpcore2 import AsyncNetworkBackend, AsyncNetworkStream
from httpcore2._backends.auto import AutoBackend

from enabley.errors import InvalidRequest

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):
    """A webhook's host resolves to an address deliveries may not reach."""


def check_url(url: str) -> tuple[str, int]:
    """``url``'s host and port, or 400 naming what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest("url must be an http or https URL")
    if not parts.hostname:
        raise InvalidRequest("url must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("url must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidRequest("url has an invalid port") from None
    return parts.hostname, port


def refusal(address: IpAddress) -> str | None:
    """Why deliveries may not reach ``address``, or None when they may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, test in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("private", address.is_private),
        ("reserved", address.is_reserved or not address.is_global),
    ):
        if test:
            return f"a {kind} address ({address})"
    return None


def _refuse_any(host: str, addresses: Iterable[str]) -> list[str]:
    checked = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = refusal(address)
        if reason is not None:
            raise RefusedAddress(f"{host} resolves to {reason}, which webhooks may not reach")
        checked.append(text)
    return checked


async def vet(url: str, *, allow_private: bool) -> None:
    """At an endpoint's creation or change: 400 when ``url`` is not an http(s) URL, or its host
    does not resolve or resolves to an address webhooks may not reach."""
    host, port = check_url(url)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidRequest(f"url's host {host} does not resolve") from None
    try:
        _refuse_any(host, [str(info[4][0]) for info in infos])
    except RefusedAddress as exc:
        raise InvalidRequest(f"url refused: {exc}") from None


class GuardedBackend(AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses webhooks may reach."""

    def __init__(self) -> None:
        self._backend = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise RefusedAddress(f"{host} does not resolve: {exc.strerror}") from None
        addresses = _refuse_any(host, dict.fromkeys(str(info[4][0]) for info in infos))
        return await self._backend.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        raise RefusedAddress("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)
