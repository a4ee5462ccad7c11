"""What a running MCP server holds: database access, the result cache, optional Temporal, and settings.

Contract: nothing connects at import; :func:`runtime_from_settings` builds the engine and session factory
(the composition root calls it), ``tool_context(identity)`` gives the per-call :class:`ToolContext`. The
result cache is shared by every call of one server process (its keys include the organisation), and so is
``audit_writer``, which group-commits the audit rows of concurrent calls.

Remediation: :meth:`Runtime.remediation_starter` starts workflows through ``cloudoptima_workflows.client``
(the one workflow module MCP servers may use, as the gateway does) with the tool's ``approval_required``
(true unless the caller sets it false; the plan decides whether it may be waived).
:meth:`Runtime.remediation_decider` sends approvals and rejections through
``cloudoptima_workflows.client.decide_execution`` (channel ``mcp``), the decision path the REST API uses.
Reports: ``reports`` (the configuration ``runtime_from_settings`` builds from settings, as the gateway does)
and :meth:`Runtime.report_starter`, which starts ``GenerateReport`` through
``cloudoptima_workflows.client.start_report_generation``, the helper the REST API uses.
Tickets: ``tickets`` (credential keys, localhost rule and console links from settings, as the gateway uses) lets
``recommendation_ticket`` open tracker tickets.
Tools run in worker threads, so all three hop back to the event loop with ``anyio.from_thread``. The Temporal
client connects lazily on the first remediation request (``TEMPORAL_ADDRESS``); without an address the
tools report that remediation is unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio.from_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from cloudoptima.services.reports import ReportsConfig, reports_config_from_settings
from cloudoptima.services.ticket_settings import TicketsConfig, tickets_config_from_settings
from cloudoptima.settings import Settings, SettingsError
from cloudoptima.storage.engine import make_engine, session_factory
from cloudoptima_mcp.audit_writer import AuditWriter
from cloudoptima_mcp.identity import Identity
from cloudoptima_tools.cache import ResultCache
from cloudoptima_tools.context import (
    RemediationDecided,
    RemediationDecision,
    RemediationStart,
    RemediationStarted,
    ReportStart,
    RollbackStart,
    ToolContext,
)
from cloudoptima_tools.spec import ToolNotFoundError, ToolPermissionError
from cloudoptima_workflows.client import (
    Approver,
    DecisionRefusedError,
    NotPendingError,
    RemediationRequest,
    connect,
    decide_execution,
    start_remediation,
    start_report_generation,
)
from cloudoptima_workflows.remediation.inputs import CHANNEL_MCP, ResourceAction, SafetyControls


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    session_factory: sessionmaker[Session]
    temporal_client: Client | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_ui_url: str | None = None
    cache: ResultCache = field(default_factory=ResultCache)
    now: Callable[[], datetime] = _utcnow
    engine: Engine | None = None
    reports: ReportsConfig | None = None
    tickets: TicketsConfig | None = None
    audit_writer: AuditWriter = field(init=False)
    """Group-commits the audit rows of this server's tool calls (:mod:`cloudoptima_mcp.audit_writer`)."""

    def __post_init__(self) -> None:
        self.audit_writer = AuditWriter(self.session_factory)

    def tool_context(self, identity: Identity) -> ToolContext:
        starter = self.remediation_starter if self.temporal_client or self.temporal_address else None
        return ToolContext(
            organization_id=identity.organization_id,
            role=identity.role,
            session_factory=self.session_factory,
            start_remediation=starter,
            decide_remediation=self.remediation_decider if starter is not None else None,
            start_rollback=self.rollback_starter if starter is not None else None,
            reports=self.reports,
            start_report=self.report_starter if starter is not None else None,
            principal=identity.principal,
            tickets=self.tickets,
            cache=self.cache,
            now=self.now,
        )

    async def _client(self) -> Client:
        if self.temporal_client is None:
            assert self.temporal_address is not None
            self.temporal_client = await connect(self.temporal_address, namespace=self.temporal_namespace)
        return self.temporal_client

    async def _start(self, start: RemediationStart) -> RemediationStarted:
        client = await self._client()
        user = start.requested_by.removeprefix("user:")
        info = await start_remediation(
            client,
            RemediationRequest(
                organization_id=str(start.organization_id),
                requested_by=Approver(user_id=user, role=start.requested_by_role),
                execution_id="",
                recommendation_id=str(start.recommendation_id),
                title=start.title,
                risk_level=start.risk_level,
                approval_required=start.approval_required,
                dry_run=start.dry_run,
            ),
            temporal_ui_url=self.temporal_ui_url,
        )
        return RemediationStarted(
            execution_id=info.execution_id,
            workflow_id=info.workflow_id,
            state=info.status,
            temporal_ui_url=info.temporal_ui_url,
        )

    def remediation_starter(self, start: RemediationStart) -> RemediationStarted:
        """Start the workflow from a tool's worker thread (see module contract)."""
        return anyio.from_thread.run(self._start, start)

    async def _decide(self, decision: RemediationDecision) -> RemediationDecided:
        try:
            result = await decide_execution(
                await self._client(),
                self.session_factory,
                decision.organization_id,
                decision.execution_id,
                approve=decision.approve,
                comment=decision.comment,
                user_id=decision.user_id,
                channel=CHANNEL_MCP,
            )
        except NotPendingError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        except DecisionRefusedError as exc:
            raise ToolPermissionError(str(exc)) from exc
        return RemediationDecided(
            execution_id=result.execution_id,
            workflow_id=result.workflow_id,
            state=result.status.state,
            approvals=len(result.status.approvals),
            approvals_needed=result.status.approvals_needed,
        )

    def remediation_decider(self, decision: RemediationDecision) -> RemediationDecided:
        """Approve or reject from a tool's worker thread (see module contract)."""
        return anyio.from_thread.run(self._decide, decision)

    async def _start_rollback(self, start: RollbackStart) -> RemediationStarted:
        client = await self._client()
        user = start.requested_by.removeprefix("user:")
        info = await start_remediation(
            client,
            RemediationRequest(
                organization_id=str(start.organization_id),
                requested_by=Approver(user_id=user, role=start.requested_by_role),
                execution_id="",
                actions=[ResourceAction(**action) for action in start.actions],
                title=start.title,
                approval_required=True,
                safety=SafetyControls(require_approval=True),
            ),
            temporal_ui_url=self.temporal_ui_url,
        )
        return RemediationStarted(
            execution_id=info.execution_id,
            workflow_id=info.workflow_id,
            state=info.status,
            temporal_ui_url=info.temporal_ui_url,
        )

    async def _start_report(self, start: ReportStart) -> str:
        return await start_report_generation(await self._client(), start.report_id, start.organization_id)

    def report_starter(self, start: ReportStart) -> str:
        """Start generating a recorded report from a tool's worker thread (see module contract)."""
        return anyio.from_thread.run(self._start_report, start)

    def rollback_starter(self, start: RollbackStart) -> RemediationStarted:
        """Start the approval-gated rollback remediation from a tool's worker thread."""
        return anyio.from_thread.run(self._start_rollback, start)


def runtime_from_settings(settings: Settings) -> Runtime:
    """Engine + session factory for ``DATABASE_URL`` (or the running embedded database)."""
    engine = make_engine(settings.resolved_database_url(), pool_size=5)
    try:
        address: str | None = settings.resolved_temporal_address()
    except SettingsError:
        address = None
    return Runtime(
        session_factory=session_factory(engine),
        temporal_address=address,
        temporal_namespace=settings.temporal_namespace,
        temporal_ui_url=settings.resolved_temporal_ui_url(),
        engine=engine,
        reports=reports_config_from_settings(settings),
        tickets=tickets_config_from_settings(settings),
    )
