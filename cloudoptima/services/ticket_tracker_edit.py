"""Editing a ticket tracker connection (#22): new URL, project, login or token, or a new webhook secret.

Contract of :func:`edit_tracker` (the caller commits; ``now`` is the caller's):
- Only the given fields change; the kind does not (ticket keys and the webhook signature depend on it). The
  result is checked as a new tracker is (:func:`~cloudoptima.services.tickets.check_tracker_fields`), a token
  must not be empty, and a bad field raises :class:`~cloudoptima.services.tickets.TicketInputError` naming it
  with nothing changed.
- ``token`` is stored encrypted (never returned). ``rotate_webhook_secret`` makes a new webhook secret (or takes
  ``webhook_secret``, 16-200 characters), stored encrypted and answered once in the view; webhooks signed with
  the old one are refused from then on.
- A change clears ``last_sync_error`` (the next sync says whether it works now). Audited as
  ``ticket_tracker.updated`` with the names of the changed fields (never their values).
- An id of another organisation is a ``LookupError``, like an unknown one.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor, acting_as, stage
from cloudoptima.services.tickets import TicketInputError, TrackerView, check_tracker_fields, tracker_view
from cloudoptima.storage.models.tickets import TicketTrackerRow
from cloudoptima.storage.tenancy import TenantRepository


class _Trackers(TenantRepository[TicketTrackerRow]):
    model = TicketTrackerRow


def edit_tracker(
    session: Session,
    organization_id: uuid.UUID,
    tracker_id: uuid.UUID,
    *,
    cipher: CredentialCipher,
    actor: AuditActor,
    allow_insecure_localhost: bool = False,
    base_url: str | None = None,
    project: str | None = None,
    login: str | None = None,
    token: str | None = None,
    rotate_webhook_secret: bool = False,
    webhook_secret: str | None = None,
) -> TrackerView:
    """Change the given fields of the tracker (see module contract)."""
    row = _Trackers(session, organization_id).get(tracker_id)
    if row is None:
        raise LookupError(f"ticket tracker {tracker_id} not found")
    new_url = row.base_url if base_url is None else base_url.strip()
    new_project = row.project if project is None else project.strip()
    new_login = row.login if login is None or row.kind != "jira" else login.strip()
    check_tracker_fields(
        row.kind, new_url, new_project, new_login, allow_insecure_localhost=allow_insecure_localhost
    )
    if token is not None and not token:
        raise TicketInputError("token", "must not be empty (leave it out to keep the stored one)")
    if webhook_secret is not None and not (rotate_webhook_secret and 16 <= len(webhook_secret) <= 200):
        raise TicketInputError("webhook_secret", "16 to 200 characters, with rotate_webhook_secret")
    changed = [
        name
        for name, new, old in (
            ("base_url", new_url, row.base_url), ("project", new_project, row.project), ("login", new_login, row.login)
        )
        if new != old
    ]  # fmt: skip
    row.base_url = new_url.rstrip("/") if row.kind != "webhook" else new_url
    row.project = new_project
    row.login = new_login if row.kind == "jira" else None
    if token is not None:
        row.token_encrypted = cipher.encrypt({"token": token})
        changed.append("token")
    secret = None
    if rotate_webhook_secret:
        secret = webhook_secret or secrets.token_urlsafe(32)
        row.webhook_secret_encrypted = cipher.encrypt({"secret": secret})
        changed.append("webhook_secret")
    if changed:
        row.last_sync_error = None
        with acting_as(actor):
            stage(
                session, organization_id, "ticket_tracker.updated", resource_type="ticket_tracker",
                resource_id=str(row.id), details={"name": row.name, "changed": changed},
            )  # fmt: skip
    session.flush()
    return tracker_view(row, webhook_secret=secret)
