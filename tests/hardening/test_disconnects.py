"""A client that drops its connection in the middle of sending an upload.

It is the client's doing, not a server fault: one log line saying so, no traceback, counted under
status 499 (as nginx logs a request whose client closed the connection first), apart from 500s;
and nothing of the partial upload is written.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid

import httpx2

from tests.hardening.harness import bearer, get_token

UPLOAD = "/api/v1/uploads/org"
WAIT = 30.0
"""How long the server may take to notice the dropped connection (it does so at once)."""


def metric_samples(base: str, route: str) -> dict[str, float]:
    """status -> count of ``enabley_requests_total`` for POSTs to ``route``."""
    text = httpx2.get(f"{base}/metrics", timeout=10).text
    pattern = re.compile(
        r'^enabley_requests_total\{(?=[^}]*method="POST")(?=[^}]*route="' + re.escape(route) + r'")'
        r'[^}]*status="(\d+)"[^}]*\} ([0-9.e+]+)$',
        re.MULTILINE,
    )
    return {status: float(count) for status, count in pattern.findall(text)}


def test_a_client_dropping_an_upload_midway_is_logged_as_a_disconnect_and_counted_apart(
    shared_deployment, servers
):
    (server,) = servers.launch(shared_deployment.url, access_log=True)
    token = get_token(server.url, shared_deployment)
    marker = uuid.uuid4().hex[:8]
    rows = "".join(f"{marker}-{i},{marker}\n" for i in range(20_000))
    data = json.dumps({"files": [{"fileName": "users.csv", "content": "identifier,firstName\n" + rows}]})
    payload = data.encode()
    head = (
        f"POST {UPLOAD} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode()

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + payload[: len(payload) // 2])
    # The connection is closed with half the body sent.

    deadline = time.monotonic() + WAIT
    while not (counts := metric_samples(server.url, UPLOAD)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counts == {"499": 1.0}, f"{counts}\n{server.log()}"

    log = server.log(tail=100_000)
    assert "Traceback" not in log, log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    disconnects = [line for line in lines if "client disconnect" in line.get("msg", "")]
    assert len(disconnects) == 1, log
    assert "exc" not in disconnects[0]
    access = [line for line in lines if line.get("logger") == "enabley.access" and line["route"] == UPLOAD]
    assert [line["status"] for line in access] == [499], log

    r = httpx2.get(f"{server.url}/api/v2/users/{marker}-0", headers=bearer(token), timeout=10)
    assert r.status_code == 404, r.text
