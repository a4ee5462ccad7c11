"""GenerateReport on a real Temporal test server (time skipped) against Postgres and a real report store:
the report is generated at the workflow's time, then delivered; an unreachable SMTP server is retried with
backoff and, after the last attempt, the delivery is recorded as failed while the report stays completed."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.notifications.email import SmtpSender
from cloudoptima.reports.store import ReportStore
from cloudoptima.services.reports import Reports, ReportsConfig
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.reports.activities import ReportActivities
from cloudoptima_workflows.reports.inputs import GenerateReportInput, ReportOutcome
from cloudoptima_workflows.reports.workflows import DELIVERY_ATTEMPTS, GenerateReportWorkflow
from tests.reports.cost_seeding import Cost, add_costs, days, make_organisation, remove_organisation
from tests.workflows.history_recording import record_history


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id, _name = make_organisation(engine, "report-wf")
    add_costs(engine, org_id, [Cost(d, Decimal("1.25")) for d in days(date(2026, 9, 1), date(2026, 11, 1))])
    yield org_id
    remove_organisation(engine, org_id)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_unreachable_smtp_is_retried_then_recorded_as_failed(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    factory = session_factory(engine)
    config = ReportsConfig(store=ReportStore(tmp_path), link_key=b"w" * 32)
    port = _closed_port()
    smtp = SmtpSender("127.0.0.1", port, sender="reports@example.com", starttls=False, timeout_s=2)
    with tenant_session(factory, org) as session:
        report = Reports(session, org, config).request(
            "monthly_cost_review",
            {"start_date": "2026-10-01", "end_date": "2026-11-01"},
            "csv",
            {"method": "email", "recipients": ["cfo@example.com"]},
            now=datetime.now(UTC),
        )
    activities = ReportActivities(factory, config, smtp)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue="reports-test",
            workflows=[GenerateReportWorkflow],
            activities=activities.all(),
            activity_executor=executor,
        ):
            handle = await time_skipping_env.client.start_workflow(
                GenerateReportWorkflow.run,
                GenerateReportInput(report_id=str(report.id), organization_id=str(org)),
                id=f"report-{report.id}",
                task_queue="reports-test",
            )
            outcome = await handle.result()
            await record_history(handle, "generate_report")
            history = await handle.fetch_history()
    assert isinstance(outcome, ReportOutcome)
    assert (outcome.status, outcome.delivery_status) == ("completed", "failed")
    assert outcome.delivery_error is not None and f"127.0.0.1:{port}" in outcome.delivery_error
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert attempts == [1, DELIVERY_ATTEMPTS]  # generate once; deliver's last attempt (retries not logged)
    with tenant_session(factory, org) as session:
        view = Reports(session, org, config).get(report.id)
    assert view.status == "completed" and view.delivery_status == "failed"
    assert view.artifact_key is not None and config.store.exists(view.artifact_key)
    assert view.expires_at is not None and view.completed_at is not None
    assert view.expires_at - view.completed_at == timedelta(hours=168)
