"""Incoming tracker webhooks (#22): a ticket's change told by its tracker, checked by signature, applied once.

Contract of :func:`receive_webhook` (one call per request; the caller commits; ``now`` is the caller's):
- The body is at most :data:`MAX_BODY_BYTES` (else :class:`WebhookRefused` 413). The tracker is found by the id
  in the URL; an unknown id or a tracker without a webhook secret is refused as an invalid signature (401), so
  the route tells nothing about which ids exist.
- Signatures (constant-time compare; 401 naming the header that is missing or does not match):

  ======== ============================================ ======================================================
  kind     signature                                    delivery id (replays are ignored)
  ======== ============================================ ======================================================
  github   ``X-Hub-Signature-256: sha256=<hex>``,       ``X-GitHub-Delivery``; event ``X-GitHub-Event``
           HMAC-SHA256 of the raw body
  jira     ``X-Hub-Signature: sha256=<hex>``, HMAC-     ``X-Atlassian-Webhook-Identifier``; event: the body's
           SHA256 of the raw body (Jira Cloud admin     ``webhookEvent``
           webhooks with a secret, WebSub style)
  webhook  ``X-CloudOptima-Signature: sha256=<hex>`` of ``X-CloudOptima-Delivery``; body
           ``<X-CloudOptima-Timestamp>.<body>``         ``{"event": "ticket.updated", "key", "state"}``
           within five minutes of now (docs/webhooks.md)
  ======== ============================================ ======================================================

- A delivery id seen before for the tracker answers outcome ``duplicate`` and changes nothing. Each accepted
  delivery is stored (``ticket_webhook_deliveries``) with its outcome.
- GitHub ``issues`` actions ``closed`` (``state_reason`` ``not_planned`` → not planned, else completed),
  ``reopened`` (open), ``deleted``/``transferred`` (gone); Jira ``jira:issue_updated`` (status category ``done`` →
  closed, not planned for the resolutions of :data:`~cloudoptima.services.ticket_clients.JIRA_NOT_PLANNED`, else
  open) and ``jira:issue_deleted`` (gone). Other events or actions, another repository or project, or a key with no
  stored ticket: outcome ``ignored: ...``. The state is applied by
  :func:`~cloudoptima.services.ticket_states.apply_ticket_state` as the ``system`` actor.
- A malformed body (not JSON, missing fields) is refused with 400 naming the field.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloudoptima.notifications.webhook_signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    verify_signature,
)
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import SYSTEM_ACTOR, AuditActor
from cloudoptima.services.ticket_clients import JIRA_NOT_PLANNED
from cloudoptima.services.ticket_states import STATES, apply_ticket_state
from cloudoptima.storage.models.tickets import (
    RecommendationTicketRow,
    TicketTrackerRow,
    TicketWebhookDeliveryRow,
)
from cloudoptima.storage.tenancy import TenantRepository, scope

MAX_BODY_BYTES: Final = 1_048_576
GITHUB_SIGNATURE: Final = "X-Hub-Signature-256"
JIRA_SIGNATURE: Final = "X-Hub-Signature"
_DELIVERY: Final = {
    "github": "X-GitHub-Delivery",
    "jira": "X-Atlassian-Webhook-Identifier",
    "webhook": DELIVERY_HEADER,
}
_ACTOR: Final = AuditActor(channel="rest", actor=SYSTEM_ACTOR, details={"via": "tracker webhook"})


class WebhookRefused(Exception):
    """The request is refused: ``status`` (400, 401, 413) and a message naming what is wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class WebhookOutcome:
    delivery: str
    event: str
    outcome: str
    recommendation_id: uuid.UUID | None = None


class _Tickets(TenantRepository[RecommendationTicketRow]):
    model = RecommendationTicketRow


class _Deliveries(TenantRepository[TicketWebhookDeliveryRow]):
    model = TicketWebhookDeliveryRow


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def _check_hmac(secret: str, body: bytes, header_name: str, given: str) -> None:
    if not given:
        raise WebhookRefused(
            401, f"{header_name} is missing: the webhook must be signed with the tracker's secret"
        )
    scheme, _, digest = given.strip().partition("=")
    if scheme != "sha256" or not digest:
        raise WebhookRefused(401, f"{header_name} must look like 'sha256=<hex>'")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, digest.lower()):
        raise WebhookRefused(401, f"{header_name} does not match the body (wrong secret or altered body)")


def _verify(kind: str, secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    if kind == "github":
        _check_hmac(secret, body, GITHUB_SIGNATURE, _header(headers, GITHUB_SIGNATURE))
    elif kind == "jira":
        _check_hmac(secret, body, JIRA_SIGNATURE, _header(headers, JIRA_SIGNATURE))
    else:
        given = _header(headers, SIGNATURE_HEADER)
        if not given:
            raise WebhookRefused(
                401, f"{SIGNATURE_HEADER} is missing: sign the callback with the tracker's secret"
            )
        try:
            verify_signature(secret, _header(headers, TIMESTAMP_HEADER), body, given, now)
        except SignatureError as exc:
            raise WebhookRefused(401, str(exc)) from exc


def _object(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise WebhookRefused(400, f"{where} must be a JSON object")
    return data


def _github(tracker: TicketTrackerRow, event: str, data: dict[str, Any]) -> tuple[str, str] | str:
    """``(key, state)`` or why the event is ignored."""
    if event == "ping":
        return "ignored: ping"
    if event != "issues":
        return f"ignored: event {event or '(none)'}"
    action = str(data.get("action") or "")
    issue = _object(data.get("issue"), "issue")
    repo = str(_object(data.get("repository"), "repository").get("full_name") or "")
    if repo.lower() != tracker.project.lower():
        return f"ignored: repository {repo}"
    if "number" not in issue:
        raise WebhookRefused(400, "issue.number is missing")
    key = str(issue["number"])
    if action in ("deleted", "transferred"):
        return key, "gone"
    if action == "reopened":
        return key, "open"
    if action == "closed":
        return key, "not_planned" if issue.get("state_reason") == "not_planned" else "completed"
    return f"ignored: action {action}"


def _jira(tracker: TicketTrackerRow, event: str, data: dict[str, Any]) -> tuple[str, str] | str:
    if event not in ("jira:issue_updated", "jira:issue_deleted"):
        return f"ignored: event {event or '(none)'}"
    issue = _object(data.get("issue"), "issue")
    key = str(issue.get("key") or "")
    if not key:
        raise WebhookRefused(400, "issue.key is missing")
    if not key.startswith(f"{tracker.project}-"):
        return f"ignored: project of {key}"
    if event == "jira:issue_deleted":
        return key, "gone"
    fields = _object(issue.get("fields") or {}, "issue.fields")
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
    if category != "done":
        return key, "open"
    resolution = str((fields.get("resolution") or {}).get("name") or "").strip().lower()
    return key, "not_planned" if resolution in JIRA_NOT_PLANNED else "completed"


def _generic(data: dict[str, Any]) -> tuple[str, str] | str:
    if data.get("event") != "ticket.updated":
        return f"ignored: event {data.get('event')}"
    key, state = data.get("key"), data.get("state")
    if not isinstance(key, str) or not key:
        raise WebhookRefused(400, "key: the ticket key CloudOptima stored (a non-empty string) is required")
    if state not in STATES:
        raise WebhookRefused(400, f"state: one of {', '.join(sorted(STATES))}")
    return key, str(state)


def receive_webhook(
    session: Session,
    tracker_id: uuid.UUID,
    headers: Mapping[str, str],
    body: bytes,
    *,
    cipher: CredentialCipher,
    now: datetime,
) -> WebhookOutcome:
    """Check, de-duplicate and apply one tracker webhook (see module contract)."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused(413, f"body is {len(body)} bytes; at most {MAX_BODY_BYTES}")
    tracker = session.scalars(select(TicketTrackerRow).where(TicketTrackerRow.id == tracker_id)).one_or_none()
    if tracker is None or not tracker.webhook_secret_encrypted:
        raise WebhookRefused(401, "invalid signature: no tracker with a webhook secret answers at this URL")
    secret = str(cipher.decrypt(tracker.webhook_secret_encrypted)["secret"])
    _verify(tracker.kind, secret, headers, body, now)
    org = tracker.organization_id
    scope(session, org)
    delivery_name = _DELIVERY[tracker.kind]
    delivery = _header(headers, delivery_name).strip()
    if not delivery or len(delivery) > 200:
        raise WebhookRefused(400, f"{delivery_name}: a delivery id (1 to 200 characters) is required")
    try:
        data = _object(json.loads(body), "body")
    except ValueError as exc:
        raise WebhookRefused(400, f"body is not JSON: {exc}") from exc
    if tracker.kind == "github":
        event = _header(headers, "X-GitHub-Event")
        found = _github(tracker, event, data)
    elif tracker.kind == "jira":
        event = str(data.get("webhookEvent") or "")
        found = _jira(tracker, event, data)
    else:
        event = str(data.get("event") or "")
        found = _generic(data)
    deliveries = _Deliveries(session, org)
    seen = session.scalars(
        deliveries.query().where(
            TicketWebhookDeliveryRow.tracker_id == tracker.id,
            TicketWebhookDeliveryRow.delivery_id == delivery,
        )
    ).first()
    if seen is not None:
        return WebhookOutcome(delivery=delivery, event=event, outcome="duplicate")
    record = TicketWebhookDeliveryRow(
        tracker_id=tracker.id, delivery_id=delivery, event=event[:100], outcome="received", received_at=now
    )
    try:
        with session.begin_nested():  # a concurrent copy of the same delivery stored first: it wins
            deliveries.add(record)
    except IntegrityError:
        return WebhookOutcome(delivery=delivery, event=event, outcome="duplicate")
    rec_id: uuid.UUID | None = None
    if isinstance(found, str):
        outcome = found
    else:
        key, state = found
        row = session.scalars(
            _Tickets(session, org)
            .query()
            .where(
                RecommendationTicketRow.tracker_id == tracker.id, RecommendationTicketRow.external_key == key
            )
        ).first()
        if row is None:
            outcome = f"ignored: no ticket {key}"
        else:
            rec_id = row.recommendation_id
            applied = apply_ticket_state(
                session, org, row, tracker, state, now=now, actor=_ACTOR, via="webhook"
            )
            outcome = applied or "unchanged"
    record.outcome = outcome[:200]
    session.flush()
    return WebhookOutcome(delivery=delivery, event=event, outcome=outcome, recommendation_id=rec_id)
