"""The admin API of webhooks: endpoints, their secrets and their deliveries, under /api/admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from enabley.deps import Context, CurrentTenant, paged
from enabley.pagination import Page, Walk
from enabley.schemas import ERRORS, NOT_FOUND, OK_EMPTY, TimestampIn, path_identifier
from enabley.webhooks import guard, replay, service
from enabley.webhooks.schemas import (
    DeliveryQuery,
    ReplayInfo,
    WebhookData,
    WebhookDeliveryInfo,
    WebhookInfo,
    WebhookQuery,
)
from enabley.webhooks.signing import secret_box

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])

WebhookIdentifier = Annotated[str, path_identifier("identifier", "Webhook endpoint identifier")]
NO_STORE = "no-store"
"""On an answer that shows a signing secret: no cache keeps it, nor the idempotency layer (which
then refuses a retry with the same key rather than replay the secret from a clear copy)."""
DeliveryId = Annotated[str, path_identifier("deliveryId", "Delivery id (dlv_...)")]


@router.put(
    "/v1/webhooks",
    summary="Create or update a webhook endpoint",
    response_model=WebhookInfo,
    responses={
        200: {"description": "Endpoint was updated"},
        201: {
            "description": "Endpoint was created; its signing secret is shown this once",
            "model": WebhookInfo,
        },
    },
)
async def create_or_update_webhook(
    body: WebhookData, tenant: CurrentTenant, context: Context, response: Response
) -> WebhookInfo:
    """Create a webhook endpoint, or update the one with this identifier. Events whose type matches
    one of eventTypes are POSTed to url, signed as the Standard Webhooks specification says. The
    signing secret (whsec_...) is in the answer that creates the endpoint, and never again.
    A URL whose host resolves to a loopback, private, link-local or multicast address is refused."""
    # The host is resolved before the unit of work: a slow DNS answer holds no database lock.
    await guard.vet(body.url, allow_private=context.settings.webhook_allow_private_networks)
    info, created = await tenant.write(service.put_webhook, body, secret_box(context.keyring))
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Cache-Control"] = NO_STORE
    return info


@router.get(
    "/v1/webhooks",
    summary="Get webhook endpoints",
    response_model=Page[WebhookInfo],
    responses={**NOT_FOUND},
)
async def get_webhooks(
    walk: Annotated[Walk[WebhookQuery], paged("admin/v1/webhooks", WebhookQuery)], tenant: CurrentTenant
) -> Page[WebhookInfo]:
    """The account's webhook endpoints, oldest first, paged with `paginationKey` (an invalid or
    expired key answers 404)"""
    return await tenant.read(service.webhooks_page, walk)


@router.get(
    "/v1/webhooks/{identifier}",
    summary="Find a webhook endpoint",
    response_model=WebhookInfo,
    responses={**NOT_FOUND},
)
async def find_webhook(identifier: WebhookIdentifier, tenant: CurrentTenant) -> WebhookInfo:
    """The webhook endpoint with this identifier"""
    return await tenant.read(service.get_webhook, identifier)


@router.delete(
    "/v1/webhooks/{identifier}",
    summary="Delete a webhook endpoint",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def delete_webhook(identifier: WebhookIdentifier, tenant: CurrentTenant) -> Response:
    """Delete the endpoint and its deliveries: nothing more is sent to it"""
    await tenant.write(service.delete_webhook, identifier)
    return Response(status_code=status.HTTP_200_OK)


@router.post(
    "/v1/webhooks/{identifier}/rotateSecret",
    summary="Rotate a webhook endpoint's signing secret",
    response_model=WebhookInfo,
    responses={**NOT_FOUND},
)
async def rotate_webhook_secret(
    identifier: WebhookIdentifier, tenant: CurrentTenant, context: Context, response: Response
) -> WebhookInfo:
    """A new signing secret, shown this once. For 24 hours the previous secret keeps signing
    beside it: each delivery carries both signatures, so a receiver can switch without a gap."""
    info = await tenant.write(service.rotate_secret, identifier, secret_box(context.keyring))
    response.headers["Cache-Control"] = NO_STORE
    return info


@router.post(
    "/v1/webhooks/{identifier}/test",
    summary="Send a test event",
    response_model=WebhookDeliveryInfo,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND},
)
async def send_test_event(identifier: WebhookIdentifier, tenant: CurrentTenant) -> WebhookDeliveryInfo:
    """Queue a webhook.test event for the endpoint, whatever its eventTypes; the answer is the
    delivery, to follow in the endpoint's deliveries"""
    return await tenant.write(service.send_test, identifier)


@router.get(
    "/v1/webhooks/{identifier}/deliveries",
    summary="Get a webhook endpoint's deliveries",
    response_model=Page[WebhookDeliveryInfo],
    responses={**NOT_FOUND},
)
async def get_webhook_deliveries(
    identifier: WebhookIdentifier,
    walk: Annotated[Walk[DeliveryQuery], paged("admin/v1/webhooks/deliveries", DeliveryQuery)],
    tenant: CurrentTenant,
) -> Page[WebhookDeliveryInfo]:
    """Every event owed to the endpoint, oldest first: its status (pending, delivered, failed), the
    attempts made, the last answer's status code or error, and when the next attempt is due"""
    return await tenant.read(service.deliveries_page, walk, identifier)


@router.post(
    "/v1/webhooks/deliveries/{deliveryId}/retry",
    summary="Retry a delivery",
    response_model=WebhookDeliveryInfo,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND},
)
async def retry_webhook_delivery(delivery_id: DeliveryId, tenant: CurrentTenant) -> WebhookDeliveryInfo:
    """Attempt the delivery again now (a failed one too), and keep retrying it for three more days"""
    return await tenant.write(service.retry_delivery, delivery_id)


@router.post(
    "/v1/webhooks/{identifier}/replay",
    summary="Replay events to a webhook endpoint",
    response_model=ReplayInfo,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND},
)
async def replay_webhook_events(
    identifier: WebhookIdentifier,
    since: Annotated[TimestampIn, Query(description="Re-send the events that occurred at or after this")],
    tenant: CurrentTenant,
) -> ReplayInfo:
    """Queue again, as new deliveries, every event of the change log since `since` that matches the
    endpoint's eventTypes (events are kept ENABLEY_EVENT_RETENTION_DAYS)"""
    return await tenant.write(replay.replay_events, identifier, since)
