"""The audit trail (seed §4.2 ``audit_logs``): who did what, to which resource, through which channel, from
where, with what result.

Contract:
- ``record(factory, entry)`` writes one row in its own short transaction, so a failed or refused action is
  recorded even though the action itself was rolled back. REST (``cloudoptima_gateway.audit``), workflow
  activities (``cloudoptima_workflows.audit``) and approval decisions write through it;
  ``record_many(factory, entries)`` writes several in one transaction per organisation, all or none of an
  organisation's rows (MCP tool calls, ``cloudoptima_mcp.audit``, group the rows of concurrent calls).
- ``stage(session, organization_id, action, ...)`` adds a row to the caller's session instead, so it commits
  (or rolls back) with the change it describes; the actor is the one set by ``acting_as`` around the current
  code (a workflow activity sets ``system`` + its workflow id), ``system`` when none is set.
- ``channel`` says how the action arrived (``rest``, ``mcp``, ``workflow``, ``temporal_ui``); ``actor`` who
  acted (``user:<id>``, ``api_key:<id>`` or ``system``; by default ``user:<user_id>`` when a user is named,
  else ``system``). ``details`` must be JSON-serialisable and never hold secrets (summarise arguments with
  ``cloudoptima.services.audit_summary.summarise``).
- Reading and pruning live in ``cloudoptima.services.audit_queries`` and ``audit_retention``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.storage.models import AuditLog
from cloudoptima.storage.tenancy import TenantRepository

AuditResult = Literal["success", "failure", "denied"]
AuditChannel = Literal["rest", "mcp", "workflow", "temporal_ui"]
AUDIT_RESULTS: Final[tuple[str, ...]] = get_args(AuditResult)
AUDIT_CHANNELS: Final[tuple[str, ...]] = get_args(AuditChannel)
SYSTEM_ACTOR: Final = "system"


def user_actor(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}"


def api_key_actor(key_id: uuid.UUID | str) -> str:
    return f"api_key:{key_id}"


@dataclass(frozen=True)
class AuditEntry:
    organization_id: uuid.UUID
    user_id: uuid.UUID | None
    action: str
    result: AuditResult
    resource_type: str | None = None
    resource_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    ip_address: str | None = None
    user_agent: str | None = None
    channel: AuditChannel = "rest"
    actor: str | None = None
    """``user:<id>``, ``api_key:<id>`` or ``system``; None derives it from ``user_id``."""
    timestamp: datetime | None = None
    """When it happened; None is now (UTC)."""


@dataclass(frozen=True)
class AuditActor:
    """Who the code running now acts for, for rows written with :func:`stage`."""

    channel: AuditChannel = "workflow"
    actor: str = SYSTEM_ACTOR
    user_id: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)
    """Merged into every staged row's details (e.g. ``workflow_id``, ``activity``)."""


_SYSTEM = AuditActor()
_current: ContextVar[AuditActor] = ContextVar("cloudoptima_audit_actor", default=_SYSTEM)


def current_actor() -> AuditActor:
    """The actor set by the innermost :func:`acting_as` (``system`` on the ``workflow`` channel if none)."""
    return _current.get()


@contextmanager
def acting_as(actor: AuditActor) -> Iterator[AuditActor]:
    """Run the block as ``actor`` (see module contract)."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


class AuditRepository(TenantRepository[AuditLog]):
    model = AuditLog

    def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert column-value rows for this organisation with one bulk INSERT (no unit of work)."""
        self.session.execute(
            insert(AuditLog), [{**row, "organization_id": self.organization_id} for row in rows]
        )


def _values(entry: AuditEntry) -> dict[str, Any]:
    if entry.channel not in AUDIT_CHANNELS:
        raise ValueError(
            f"unknown audit channel {entry.channel!r}; expected one of {', '.join(AUDIT_CHANNELS)}"
        )
    actor = entry.actor or (user_actor(entry.user_id) if entry.user_id is not None else SYSTEM_ACTOR)
    return {
        "user_id": entry.user_id,
        "timestamp": entry.timestamp or datetime.now(UTC),
        "action": entry.action[:100],
        "resource_type": entry.resource_type[:64] if entry.resource_type else None,
        "resource_id": entry.resource_id,
        "details": entry.details,
        "ip_address": entry.ip_address[:64] if entry.ip_address else None,
        "user_agent": entry.user_agent,
        "result": entry.result,
        "channel": entry.channel,
        "actor": actor[:128],
    }


def _row(entry: AuditEntry) -> AuditLog:
    return AuditLog(**_values(entry))


def record(factory: sessionmaker[Session], entry: AuditEntry) -> uuid.UUID:
    """Write ``entry`` and commit; returns the row id."""
    with factory() as session:
        row = AuditRepository(session, entry.organization_id).add(_row(entry))
        session.commit()
        return row.id


def record_many(factory: sessionmaker[Session], entries: Sequence[AuditEntry]) -> list[uuid.UUID]:
    """Write ``entries`` (in order) with one INSERT and one commit per organisation; returns the row ids.

    An organisation's rows commit together or not at all; a failure raises after the organisations before
    it committed (their rows stay: each is a complete record on its own).
    """
    rows = [{**_values(entry), "id": uuid.uuid4()} for entry in entries]
    by_org: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for entry, row in zip(entries, rows, strict=True):
        by_org.setdefault(entry.organization_id, []).append(row)
    for organization_id, org_rows in by_org.items():
        with factory() as session:
            AuditRepository(session, organization_id).insert_many(org_rows)
            session.commit()
    return [row["id"] for row in rows]


def stage(
    session: Session,
    organization_id: uuid.UUID,
    action: str,
    *,
    result: AuditResult = "success",
    resource_type: str | None = None,
    resource_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Add a row for the current actor to ``session`` (committed with the caller's change)."""
    who = current_actor()
    entry = AuditEntry(
        organization_id=organization_id,
        user_id=who.user_id,
        action=action,
        result=result,
        resource_type=resource_type,
        resource_id=resource_id,
        details={**who.details, **(details or {})},
        channel=who.channel,
        actor=who.actor,
    )
    return AuditRepository(session, organization_id).add(_row(entry))


def recent(session: Session, organization_id: uuid.UUID, *, limit: int = 100) -> Sequence[AuditLog]:
    """The organisation's latest audit rows, newest first."""
    repo = AuditRepository(session, organization_id)
    return session.scalars(
        repo.query().order_by(AuditLog.timestamp.desc(), AuditLog.id.desc()).limit(limit)
    ).all()
