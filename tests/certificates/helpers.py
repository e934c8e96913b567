"""Shorthands for the certificate tests: each call asserts its own success."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pypdf


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# One "now" for the whole module, so two calls of days_ago(n) always agree to the second.
NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    return response.json()["error_description"]


def put_certificate(client, headers, identifier="cert-1", **fields):
    body = {"externalCertificateId": identifier, "name": "Forklift safety", **fields}
    return client.put("/api/admin/v1/certificates", json=body, headers=headers)


def complete(client, headers, user, channel, item, when: datetime, completed=True):
    body = {
        "userIdentifier": user,
        "channelIdentifier": channel,
        "itemIdentifier": item,
        "completed": completed,
        "occurredAt": iso(when),
    }
    return ok(client.post("/api/admin/v1/activity", json=body, headers=headers))


def states(client, headers, user="ana"):
    return ok(client.get(f"/api/v1/certificates/users/{user}", headers=headers))


def state_of(client, headers, certificate="cert-1", user="ana"):
    (found,) = [s for s in states(client, headers, user) if s["externalCertificateId"] == certificate]
    return found


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
