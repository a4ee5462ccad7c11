"""``get_execution`` / ``rollback_remediation`` and the one-open-execution rule of ``request_remediation``,
over the seeded organisations in the real Postgres (the workflow starter is the composition root's edge)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from cloudoptima.storage.models import PolicyExecution
from cloudoptima_tools import catalog
from cloudoptima_tools.context import RemediationStart, RemediationStarted, RollbackStart
from cloudoptima_tools.spec import ToolInputError, ToolNotFoundError, ToolPermissionError, run_tool
from tests.tools.conftest import context_for
from tests.tools.execution_seed import seed_completed_execution
from tests.tools.seed import Estates

SPECS = catalog.by_name()


def test_rollback_tool_previews_then_starts_an_approval_gated_rollback_once(
    engine: Engine, estates: Estates
) -> None:
    org = estates.a.organization_id
    with Session(engine) as session:
        execution_id = seed_completed_execution(session, org, "i-tool-rollback")
        session.commit()
    started: list[RollbackStart] = []
    rollback_id = str(uuid.uuid4())

    def starter(start: RollbackStart) -> RemediationStarted:
        started.append(start)
        return RemediationStarted(
            execution_id=rollback_id,
            workflow_id=f"remediation-{rollback_id}",
            state="queued",
            temporal_ui_url=None,
        )

    def unreachable(start: RollbackStart) -> RemediationStarted:
        raise ConnectionError("Temporal is unreachable")

    ctx = dataclasses.replace(context_for(engine, estates.a), start_rollback=starter)
    try:
        down = dataclasses.replace(ctx, start_rollback=unreachable)
        with pytest.raises(ConnectionError):
            run_tool(SPECS["rollback_remediation"], down, {"execution_id": execution_id, "confirm": True})
        released = run_tool(SPECS["get_execution"], ctx, {"execution_id": execution_id})
        assert released.rollback_possible is True and released.rolled_back_by == [], (
            "a failed start leaves it as it was"
        )

        preview = run_tool(SPECS["rollback_remediation"], ctx, {"execution_id": execution_id})
        assert preview.state == "awaiting_confirmation" and not started
        assert [(a["action"], a["resource_id"]) for a in preview.actions] == [("start", "i-tool-rollback")]
        assert preview.risk_level == "low"

        out = run_tool(SPECS["rollback_remediation"], ctx, {"execution_id": execution_id, "confirm": True})
        assert out.execution_id == rollback_id and out.approval_required is True
        assert len(started) == 1 and started[0].actions == preview.actions
        assert started[0].rollback_of == uuid.UUID(execution_id)

        detail = run_tool(SPECS["get_execution"], ctx, {"execution_id": execution_id})
        assert detail.steps[0]["action"] == "stop" and detail.rolled_back_by[0].execution_id == rollback_id
        assert detail.rollback_possible is False and "open rollback" in (detail.rollback_refusal or "")
        with pytest.raises(ToolInputError, match="open rollback"):
            run_tool(SPECS["rollback_remediation"], ctx, {"execution_id": execution_id, "confirm": True})
        assert len(started) == 1

        viewer = context_for(engine, estates.a, "viewer")
        with pytest.raises(ToolPermissionError):
            run_tool(SPECS["rollback_remediation"], viewer, {"execution_id": execution_id})
        assert run_tool(SPECS["get_execution"], viewer, {"execution_id": execution_id}).id == execution_id
        with pytest.raises(ToolNotFoundError):
            run_tool(SPECS["get_execution"], context_for(engine, estates.b), {"execution_id": execution_id})
    finally:
        with Session(engine) as session:
            session.execute(delete(PolicyExecution).where(PolicyExecution.id == uuid.UUID(execution_id)))
            session.commit()


def test_request_remediation_names_the_open_execution(engine: Engine, estates: Estates) -> None:
    org = estates.a.organization_id
    recommendation = uuid.UUID(estates.a.recommendation_ids[0])
    with Session(engine) as session:
        open_row = PolicyExecution(
            organization_id=org,
            status="pending_approval",
            workflow_id=f"remediation-{uuid.uuid4()}",
            kind="recommendation",
            recommendation_id=recommendation,
        )
        session.add(open_row)
        session.commit()
        open_id = open_row.id
    started: list[RemediationStart] = []

    def starter(start: RemediationStart) -> RemediationStarted:
        started.append(start)
        return RemediationStarted(
            execution_id="x", workflow_id="remediation-x", state="queued", temporal_ui_url=None
        )

    try:
        ctx = dataclasses.replace(context_for(engine, estates.a), start_remediation=starter)
        arguments = {"recommendation_id": str(recommendation)}
        with pytest.raises(ToolInputError, match=f"open execution {open_id} \\(pending_approval\\)"):
            run_tool(SPECS["request_remediation"], ctx, {**arguments, "confirm": True})
        assert not started, "nothing was started"
        assert run_tool(SPECS["request_remediation"], ctx, arguments).state == "awaiting_confirmation"
        dry = run_tool(SPECS["request_remediation"], ctx, {**arguments, "dry_run": True, "confirm": True})
        assert dry.state == "queued" and started[0].dry_run is True, "a dry run changes nothing: allowed"
    finally:
        with Session(engine) as session:
            session.execute(delete(PolicyExecution).where(PolicyExecution.id == open_id))
            session.commit()
