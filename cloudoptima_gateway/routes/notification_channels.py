"""Notification channels and deliveries: the admin API of the delivery pipeline
(``cloudoptima.services.notification_delivery``). Admins only (``manage:organization``).

- ``GET`` / ``POST /v1/notification-channels``, ``DELETE /v1/notification-channels/{channel_id}``: the
  organisation's channels. Targets and webhook secrets are write-only: answers show only the redacted target.
  A bad URL, an unknown kind or a short webhook secret is a 422 naming the field.
- ``POST /v1/notification-channels/{channel_id}/test``: sends a test notice now and answers the receipt
  (``delivered: true``) or the channel's error (``delivered: false`` with the reason; the answer is still
  200: the API call worked, the receiver refused).
- ``GET /v1/notification-deliveries?status=dead``: deliveries newest first (dead letters with ``dead``);
  ``POST /v1/notification-deliveries/{delivery_id}/replay`` puts a dead delivery back in the queue, due now.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.orm import Session

from cloudoptima.notifications.channels import DeliveryError
from cloudoptima.services.notification_delivery import (
    ChannelNotFound,
    ChannelView,
    DeliveryConfigError,
    DeliveryNotFound,
    DeliveryView,
    NotificationDelivery,
    smtp_sender_from_settings,
)
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import Success, invalid, not_found
from cloudoptima_gateway.schemas.notification_channels import (
    ChannelIn,
    ChannelList,
    ChannelOut,
    DeliveryList,
    DeliveryOut,
    ReceiptOut,
)

router = APIRouter(tags=["notifications"], route_class=AuditedRoute)
ChannelAdmin = Annotated[Principal, Permission("manage:organization")]


def _service(runtime: Runtime, session: Session, principal: Principal) -> NotificationDelivery:
    settings = runtime.settings
    return NotificationDelivery(
        session,
        principal.organization_id,
        cipher=runtime.cipher(),
        smtp=smtp_sender_from_settings(settings),
        allow_insecure_localhost=settings.notifications_allow_insecure_localhost,
    )


def _channel_out(view: ChannelView) -> ChannelOut:
    return ChannelOut(
        id=view.id,
        name=view.name,
        kind=view.kind,
        target=view.target_hint,
        enabled=view.enabled,
        created_at=view.created_at,
    )


def _delivery_out(view: DeliveryView) -> DeliveryOut:
    return DeliveryOut.model_validate(view)


@router.get("/notification-channels", response_model=ChannelList)
def list_channels(principal: ChannelAdmin, runtime: RuntimeDep, session: TenantDb) -> ChannelList:
    """The organisation's notification channels (targets redacted)."""
    views = _service(runtime, session, principal).list_channels()
    return ChannelList(items=[_channel_out(v) for v in views])


@router.post("/notification-channels", response_model=ChannelOut, status_code=status.HTTP_201_CREATED)
def create_channel(
    body: ChannelIn, principal: ChannelAdmin, runtime: RuntimeDep, session: TenantDb
) -> ChannelOut:
    """Add a channel; the target and the webhook secret are stored encrypted and never returned."""
    try:
        view = _service(runtime, session, principal).create_channel(
            name=body.name,
            kind=body.kind,
            target=body.target,
            secret=body.secret,
            enabled=body.enabled,
            now=datetime.now(UTC),
        )
    except DeliveryConfigError as exc:
        raise invalid(exc.field, exc.message, location="body") from exc
    return _channel_out(view)


@router.delete("/notification-channels/{channel_id}", response_model=Success)
def delete_channel(
    channel_id: uuid.UUID, principal: ChannelAdmin, runtime: RuntimeDep, session: TenantDb
) -> Success:
    """Delete a channel and its deliveries."""
    try:
        _service(runtime, session, principal).delete_channel(channel_id)
    except ChannelNotFound as exc:
        raise not_found("notification channel", channel_id) from exc
    return Success()


@router.post("/notification-channels/{channel_id}/test", response_model=ReceiptOut)
def test_channel(
    channel_id: uuid.UUID, principal: ChannelAdmin, runtime: RuntimeDep, session: TenantDb
) -> ReceiptOut:
    """Send a test notice to the channel now; answers the receiver's receipt or its error."""
    try:
        receipt = _service(runtime, session, principal).send_test(channel_id, datetime.now(UTC))
    except ChannelNotFound as exc:
        raise not_found("notification channel", channel_id) from exc
    except DeliveryError as exc:
        return ReceiptOut(
            delivered=False,
            channel=exc.channel,
            target=exc.target,
            status=exc.status,
            detail=exc.reason,
            retryable=exc.retryable,
        )
    return ReceiptOut(
        delivered=True,
        channel=receipt.channel,
        target=receipt.target,
        status=receipt.status,
        detail=receipt.detail,
    )


@router.get("/notification-deliveries", response_model=DeliveryList)
def list_deliveries(
    principal: ChannelAdmin,
    runtime: RuntimeDep,
    session: TenantDb,
    delivery_status: Annotated[
        Literal["pending", "delivered", "dead"] | None, Query(alias="status", description="only this status")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    """Deliveries newest first; ``status=dead`` lists the dead letters."""
    views = _service(runtime, session, principal).list_deliveries(status=delivery_status, limit=limit)
    return DeliveryList(items=[_delivery_out(v) for v in views])


@router.post("/notification-deliveries/{delivery_id}/replay", response_model=DeliveryOut)
def replay_delivery(
    delivery_id: uuid.UUID, principal: ChannelAdmin, runtime: RuntimeDep, session: TenantDb
) -> DeliveryOut:
    """Put a dead delivery back in the queue, due now (the worker retries it within a minute)."""
    try:
        view = _service(runtime, session, principal).replay(delivery_id, datetime.now(UTC))
    except DeliveryNotFound as exc:
        raise not_found("notification delivery", delivery_id) from exc
    except DeliveryConfigError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return _delivery_out(view)
