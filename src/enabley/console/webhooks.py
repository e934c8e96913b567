"""The console's webhooks page: endpoints, their recent deliveries, retry and test buttons.

Webhooks belong to the whole account: a console user limited to a sub-account does not see them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enabley.console.auth import ChangingConsole, ConsoleTenant, CurrentConsole
from enabley.console.door import read, write
from enabley.console.render import PageError, page
from enabley.db.base import owned
from enabley.models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from enabley.webhooks import service as webhooks_service
from enabley.webhooks.schemas import WebhookDeliveryInfo, WebhookInfo

router = APIRouter(prefix="/console", include_in_schema=False)

RECENT = 50


@dataclass(frozen=True, slots=True)
class Endpoint:
    info: WebhookInfo
    health: dict[str, int]


def delivery_health(session: Session, tenant: ConsoleTenant) -> dict[str, int]:
    """The account's deliveries by status (pending, delivered, failed)."""
    rows = session.execute(
        owned(WebhookDelivery, tenant)
        .with_only_columns(WebhookDelivery.status, func.count())
        .group_by(WebhookDelivery.status)
    ).all()
    found = Counter({str(status): int(count) for status, count in rows})
    return {status.value: found.get(status.value, 0) for status in DeliveryStatus}


def endpoints(session: Session, tenant: ConsoleTenant) -> list[Endpoint]:
    """Every endpoint (an account has a handful), each with its deliveries counted by status."""
    found = list(session.scalars(owned(WebhookEndpoint, tenant).order_by(WebhookEndpoint.id).limit(500)))
    counts = session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.account_id == tenant.account_id)
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)
    ).all()
    by_endpoint: dict[int, dict[str, int]] = {e.id: dict.fromkeys(DeliveryStatus, 0) for e in found}
    for endpoint_id, status, count in counts:
        if endpoint_id in by_endpoint:
            by_endpoint[endpoint_id][str(status)] = int(count)
    return [Endpoint(WebhookInfo.of(e), by_endpoint[e.id]) for e in found]


@dataclass(frozen=True, slots=True)
class EndpointPage:
    info: WebhookInfo
    deliveries: list[WebhookDeliveryInfo]


def endpoint_page(session: Session, tenant: ConsoleTenant, identifier: str) -> EndpointPage:
    """An endpoint and its most recent deliveries, newest first."""
    endpoint = webhooks_service.require_endpoint(session, tenant, identifier)
    recent = session.scalars(
        owned(WebhookDelivery, tenant)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(RECENT)
    )
    return EndpointPage(WebhookInfo.of(endpoint), [WebhookDeliveryInfo.of(d) for d in recent])


def _whole_account(tenant: ConsoleTenant) -> None:
    if tenant.sub_account_name is not None:
        raise PageError(
            404, "Webhooks belong to the whole account: a sub-account's console user can't see them"
        )


@router.get("/webhooks")
async def webhooks(request: Request, console: CurrentConsole) -> HTMLResponse:
    _whole_account(console.tenant)
    found = await read(console, endpoints)
    return page(request, console, "webhooks.html", active="webhooks", endpoints=found)


@router.get("/webhooks/{identifier}")
async def webhook(request: Request, console: CurrentConsole, identifier: str) -> HTMLResponse:
    _whole_account(console.tenant)
    found = await read(console, endpoint_page, identifier)
    return page(request, console, "webhook.html", active="webhooks", found=found)


@router.post("/webhooks/{identifier}/test")
async def send_test(console: ChangingConsole, identifier: str) -> RedirectResponse:
    _whole_account(console.tenant)
    await write(console, webhooks_service.send_test, identifier)
    return RedirectResponse(f"/console/webhooks/{identifier}?sent=test", status_code=303)


@router.post("/webhooks/{identifier}/deliveries/{delivery_id}/retry")
async def retry(console: ChangingConsole, identifier: str, delivery_id: str) -> RedirectResponse:
    _whole_account(console.tenant)
    await write(console, webhooks_service.retry_delivery, delivery_id)
    return RedirectResponse(f"/console/webhooks/{identifier}?retried={delivery_id}", status_code=303)
