"""What every tool runs with: the caller's organisation and role, database access, optional Temporal.

Contract:
- ``ToolContext`` is built by a composition root (an MCP server, an agent runner) after it has
  authenticated the caller; tools never read the environment.
- ``session()`` is a tenant-scoped session (``cloudoptima.storage.tenancy``): every ORM statement on a
  tenant-scoped table is filtered to ``organization_id``; it commits on success. ``read_session()`` is the
  same but always rolls back, so read-only tools cannot write even by accident.
- ``price_catalog(session)`` is ``prices`` when given, else the organisation's catalogue
  (``cloudoptima.services.price_catalog.price_catalog_for``: the price store with built-in fallbacks).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.rbac import Role, has_permission
from cloudoptima.domain.recommendations import PriceCatalog
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.reports import ReportsConfig
from cloudoptima.services.ticket_settings import TicketsConfig
from cloudoptima.storage.tenancy import scope, tenant_session
from cloudoptima_tools.cache import ResultCache


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RemediationStart:
    """What a tool asks the workflow engine to start. ``approval_required`` (the default) makes it wait for a
    person; false only lets a low-risk, reversible plan of an organisation with ``auto_approve_low_risk`` run
    at once (the plan decides; the chat starter always asks for approval)."""

    organization_id: uuid.UUID
    recommendation_id: uuid.UUID
    requested_by: str
    requested_by_role: Role
    title: str
    risk_level: str
    dry_run: bool
    approval_required: bool = True


@dataclass(frozen=True)
class RemediationStarted:
    """The started workflow: the ``policy_executions`` id, workflow id, state and Temporal UI link."""

    execution_id: str
    workflow_id: str
    state: str
    temporal_ui_url: str | None


RemediationStarter = Callable[[RemediationStart], RemediationStarted]
"""Starts the remediation workflow (wired by a composition root that may use ``temporal_workflows``)."""


@dataclass(frozen=True)
class RollbackStart:
    """What a tool asks the workflow engine to start to undo an execution: a remediation of the undo
    actions (``PlannedAction`` dicts), always approval-gated."""

    organization_id: uuid.UUID
    rollback_of: uuid.UUID
    actions: list[dict[str, Any]]
    title: str
    requested_by: str
    requested_by_role: Role


RollbackStarter = Callable[[RollbackStart], RemediationStarted]
"""Starts the approval-gated remediation of a rollback (wired like :data:`RemediationStarter`)."""


@dataclass(frozen=True)
class RemediationDecision:
    """A decision a tool passes on: ``user_id`` approves or rejects the pending remediation ``execution_id``."""

    organization_id: uuid.UUID
    execution_id: uuid.UUID
    approve: bool
    comment: str
    user_id: str


@dataclass(frozen=True)
class RemediationDecided:
    """The remediation after the decision (``pending_approval`` while another approver is needed)."""

    execution_id: str
    workflow_id: str
    state: str
    approvals: int
    approvals_needed: int


RemediationDecider = Callable[[RemediationDecision], RemediationDecided]
"""Sends a decision through the one decision path (``cloudoptima_workflows.client.decide_execution``, channel
``mcp``), wired by a composition root. It raises ``cloudoptima_tools.spec.ToolNotFoundError`` when nothing of the
organisation waits under that id and ``cloudoptima_tools.spec.ToolPermissionError`` with the workflow's reason when the
decision is refused."""


@dataclass(frozen=True)
class ReportStart:
    """What a tool asks the workflow engine to start: the generation of the recorded (committed) report."""

    organization_id: uuid.UUID
    report_id: uuid.UUID


ReportStarter = Callable[[ReportStart], str]
"""Starts the ``GenerateReport`` workflow of a report and returns its workflow id
(``cloudoptima_workflows.client.start_report_generation``, wired by a composition root). Any exception means
nothing was started."""


@dataclass(frozen=True)
class ToolContext:
    """The caller (organisation, role) and the dependencies tools use."""

    organization_id: uuid.UUID
    role: Role
    session_factory: sessionmaker[Session]
    start_remediation: RemediationStarter | None = None
    """Starts the approval-gated remediation workflow (``request_remediation`` needs it)."""
    start_rollback: RollbackStarter | None = None
    """Starts the approval-gated rollback of an execution (``rollback_remediation`` needs it)."""
    decide_remediation: RemediationDecider | None = None
    """Approves or rejects a pending remediation (``approve_remediation`` / ``reject_remediation`` need it)."""
    reports: ReportsConfig | None = None
    """Where report artifacts live and how download links are signed (the report tools need it)."""
    start_report: ReportStarter | None = None
    """Starts the generation of a report (``generate_report`` needs it)."""
    principal: str = "unknown"
    """Who is calling (user id or API key prefix), recorded by tools that start work."""
    prices: PriceCatalog | None = None
    tickets: TicketsConfig | None = None
    """Credential keys and links to open tracker tickets (``recommendation_ticket`` needs it to create)."""
    cache: ResultCache = field(default_factory=ResultCache)
    now: Callable[[], datetime] = _utcnow

    def price_catalog(self, session: Session) -> PriceCatalog:
        """``prices`` when given, else the organisation's catalogue (see module contract)."""
        return self.prices if self.prices is not None else price_catalog_for(session, self.organization_id)

    def can(self, permission: str) -> bool:
        return has_permission(self.role, permission)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A tenant-scoped session that commits on success."""
        with tenant_session(self.session_factory, self.organization_id) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A tenant-scoped session that is always rolled back (loaded rows stay readable, detached)."""
        with self.session_factory() as session:
            scope(session, self.organization_id)
            try:
                yield session
            finally:
                session.expunge_all()
                session.rollback()
