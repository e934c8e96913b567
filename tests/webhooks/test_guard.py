"""Server-side request forgery: URLs reaching the server's own networks are refused, at creation
and at each delivery, unless ENABLEY_WEBHOOK_ALLOW_PRIVATE_NETWORKS is set (as the other tests do)."""

from __future__ import annotations

import ipaddress

import pytest

from enabley.webhooks.guard import refusal
from tests.webhooks.conftest import HOOKS, put_hook

REFUSED = [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://localhost/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("http://172.16.5.4/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
]


@pytest.mark.parametrize(
    ("address", "kind"), [("8.8.8.8", None), ("2606:4700::1111", None), ("100.64.0.1", "reserved")]
)
def test_public_addresses_pass(address, kind):
    reason = refusal(ipaddress.ip_address(address))
    assert (reason is None) if kind is None else (kind in reason)


def test_private_destinations_are_refused_at_creation(app_with, auth, account):
    client = app_with(webhook_allow_private_networks=False)
    headers = auth(account)
    problems = []
    for url, kind in REFUSED:
        response = client.put(HOOKS, json={"identifier": "x", "url": url}, headers=headers)
        description = response.json().get("error_description", "")
        if response.status_code != 400 or kind not in description:
            problems.append((url, response.status_code, description))
    assert problems == []
    unresolvable = client.put(
        HOOKS, json={"identifier": "x", "url": "https://nowhere.invalid/"}, headers=headers
    )
    assert unresolvable.status_code == 400 and "does not resolve" in unresolvable.json()["error_description"]
    assert client.get(HOOKS, headers=headers).json()["items"] == []


def test_a_private_destination_is_refused_at_delivery(client, headers, receiver, driver):
    """Saved while allowed (or resolving elsewhere then), it is still refused when the worker
    connects: the check is made on the address connected to."""
    put_hook(client, headers, receiver.url.replace("127.0.0.1", "localhost"))
    client.post(f"{HOOKS}/crm/test", headers=headers)
    driver(webhook_allow_private_networks=False).run()
    assert receiver.received == []
    [delivery] = client.get(f"{HOOKS}/crm/deliveries", headers=headers).json()["items"]
    assert delivery["status"] == "pending" and "loopback" in delivery["lastError"]
