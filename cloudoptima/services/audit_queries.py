"""Reading the audit trail: one organisation's rows, filtered, newest first, in keyset pages.

Contract:
- ``AuditFilter.build(...)`` validates every filter and raises :class:`AuditQueryError` naming the field
  (``channel``/``outcome`` outside their values, ``since`` after ``until``, naive datetimes, a ``resource_id``
  without ``resource_type`` is allowed; empty strings are refused).
- ``search(session, organization_id, filters, limit=, cursor=)`` returns rows ordered by
  ``(timestamp, id)`` descending; ``next_cursor`` resumes exactly after the page's last row, so pages never
  repeat or skip a row even while new rows arrive. A cursor is opaque; a malformed one is an
  :class:`AuditQueryError` on ``cursor``. ``since`` is inclusive, ``until`` exclusive.
- Only the organisation's rows are ever read (the tenant repository filters them).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from cloudoptima.services.audit import AUDIT_CHANNELS, AUDIT_RESULTS, AuditRepository
from cloudoptima.storage.models import AuditLog

MAX_PAGE = 500


class AuditQueryError(ValueError):
    """A filter or cursor is invalid; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AuditFilter:
    """Conditions every returned row meets (None: no condition)."""

    user_id: uuid.UUID | None = None
    actor: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    channel: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def build(cls, **values: Any) -> AuditFilter:
        """A validated filter (see module contract)."""
        for name in ("actor", "action", "resource_type", "resource_id"):
            value = values.get(name)
            if value is not None and not str(value).strip():
                raise AuditQueryError(name, "must not be empty")
        channel = values.get("channel")
        if channel is not None and channel not in AUDIT_CHANNELS:
            raise AuditQueryError("channel", f"must be one of {', '.join(AUDIT_CHANNELS)}; got {channel!r}")
        outcome = values.get("outcome")
        if outcome is not None and outcome not in AUDIT_RESULTS:
            raise AuditQueryError("outcome", f"must be one of {', '.join(AUDIT_RESULTS)}; got {outcome!r}")
        for name in ("since", "until"):
            moment = values.get(name)
            if moment is not None and moment.tzinfo is None:
                raise AuditQueryError(name, "must carry a time zone (e.g. 2026-01-31T00:00:00Z)")
        since, until = values.get("since"), values.get("until")
        if since is not None and until is not None and since >= until:
            raise AuditQueryError("since", f"must be before until ({until.isoformat()})")
        return cls(**values)


@dataclass(frozen=True)
class AuditPage:
    rows: Sequence[AuditLog]
    next_cursor: str | None


def encode_cursor(row: AuditLog) -> str:
    raw = f"{row.timestamp.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The ``(timestamp, id)`` a cursor resumes after (see module contract)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, row_id = raw.partition("|")
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise AuditQueryError("cursor", "is not a cursor this endpoint returned") from exc


def search(
    session: Session,
    organization_id: uuid.UUID,
    filters: AuditFilter,
    *,
    limit: int = 100,
    cursor: str | None = None,
) -> AuditPage:
    """One page of the organisation's matching rows, newest first (see module contract)."""
    if not 1 <= limit <= MAX_PAGE:
        raise AuditQueryError("limit", f"must be between 1 and {MAX_PAGE}")
    query = AuditRepository(session, organization_id).query()
    conditions = []
    if filters.user_id is not None:
        conditions.append(AuditLog.user_id == filters.user_id)
    if filters.actor is not None:
        conditions.append(AuditLog.actor == filters.actor)
    if filters.action is not None:
        conditions.append(AuditLog.action == filters.action)
    if filters.resource_type is not None:
        conditions.append(AuditLog.resource_type == filters.resource_type)
    if filters.resource_id is not None:
        conditions.append(AuditLog.resource_id == filters.resource_id)
    if filters.channel is not None:
        conditions.append(AuditLog.channel == filters.channel)
    if filters.outcome is not None:
        conditions.append(AuditLog.result == filters.outcome)
    if filters.since is not None:
        conditions.append(AuditLog.timestamp >= filters.since)
    if filters.until is not None:
        conditions.append(AuditLog.timestamp < filters.until)
    if cursor:
        at, row_id = decode_cursor(cursor)
        conditions.append(or_(AuditLog.timestamp < at, and_(AuditLog.timestamp == at, AuditLog.id < row_id)))
    rows = session.scalars(
        query.where(*conditions).order_by(AuditLog.timestamp.desc(), AuditLog.id.desc()).limit(limit + 1)
    ).all()
    page = rows[:limit]
    return AuditPage(rows=page, next_cursor=encode_cursor(page[-1]) if len(rows) > limit else None)
