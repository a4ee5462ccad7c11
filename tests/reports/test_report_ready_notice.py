"""``report.ready``: the requester of a report hears in-app that it completed (info) or failed (warning), once
per report, in the transaction that records it, announced on ``publish`` after commit; an admin's rule can
send it to a channel too; a scheduled run (no requester) notifies no one in-app."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.reports.store import ReportStore
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.notification_delivery import NotificationDelivery
from cloudoptima.services.notification_rules import NotificationRules
from cloudoptima.services.reports import Reports, ReportsConfig
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Notification, NotificationDeliveryRow, User
from cloudoptima.storage.tenancy import scope, tenant_session
from tests.reports.cost_seeding import Cost, add_costs, days, make_organisation, remove_organisation

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PERIOD = {"start_date": "2026-11-01", "end_date": "2026-12-01"}


class Recorder:
    """A ``Publish`` that records what it was given."""

    def __init__(self) -> None:
        self.events: list[tuple[uuid.UUID, str, dict[str, Any]]] = []

    def __call__(self, organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any]) -> int:
        self.events.append((organization_id, event_type, dict(data)))
        return 1


@pytest.fixture
def org(engine: Engine) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """An organisation with November costs and one analyst; (organisation id, analyst id)."""
    org_id, _ = make_organisation(engine, "ready")
    add_costs(engine, org_id, [Cost(d, Decimal("10.10")) for d in days(date(2026, 11, 1), date(2026, 12, 1))])
    with Session(engine) as session:
        user = User(
            organization_id=org_id,
            email=f"a-{uuid.uuid4().hex[:8]}@example.com",
            password_hash="x",
            role="analyst",
        )
        session.add(user)
        session.commit()
        user_id = user.id
    yield org_id, user_id
    remove_organisation(engine, org_id)


@pytest.fixture
def config(tmp_path: Path) -> ReportsConfig:
    return ReportsConfig(
        store=ReportStore(tmp_path / "reports"),
        link_key=b"k" * 32,
        link_ttl=timedelta(days=7),
        public_url="https://finops.example.com",
    )


def _notices(session: Session, org: uuid.UUID) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(
                Notification.organization_id == org, Notification.event_type == "report.ready"
            )
        )
    )


def test_the_requester_hears_once_that_the_report_is_ready(
    engine: Engine, org: tuple[uuid.UUID, uuid.UUID], config: ReportsConfig
) -> None:
    org_id, analyst = org
    factory = session_factory(engine)
    published = Recorder()
    with tenant_session(factory, org_id) as session:
        service = Reports(session, org_id, config, publish=published)
        report_id = service.request(
            "monthly_cost_review", PERIOD, "pdf", None, now=NOW, requested_by=analyst
        ).id
        view = service.generate(report_id, NOW)
        assert view.status == "completed", view.error
        assert published.events == []  # announced only after commit
    assert [(o, t) for o, t, _ in published.events] == [(org_id, "notifications")]
    pushed = published.events[0][2]
    assert pushed["user_id"] == str(analyst)
    with tenant_session(factory, org_id) as session:
        # a retried activity (generate, then fail, on the finished report) posts and announces nothing new
        service = Reports(session, org_id, config, publish=published)
        service.generate(report_id, NOW + timedelta(minutes=1))
        service.fail(report_id, "late failure", NOW + timedelta(minutes=2))
        (notice,) = _notices(session, org_id)
    assert len(published.events) == 1 and pushed["notification"]["id"] == str(notice.id)
    assert notice.user_id == analyst and notice.severity == "info"
    assert notice.title == "Report ready: Monthly cost review"
    assert notice.link == f"https://finops.example.com/v1/reports/{report_id}"
    assert notice.payload == {
        "report_id": str(report_id),
        "template_id": "monthly_cost_review",
        "template": "Monthly cost review",
        "format": "pdf",
        "status": "completed",
        "period": PERIOD,
        "size_bytes": view.size_bytes,
        "error": None,
    }
    assert notice.idempotency_key == f"report.ready:{report_id}"
    assert "2026-11-01 to 2026-12-01" in notice.summary and "pdf" in notice.summary


def test_a_failed_report_warns_and_a_rolled_back_one_says_nothing(
    engine: Engine, org: tuple[uuid.UUID, uuid.UUID], config: ReportsConfig
) -> None:
    org_id, analyst = org
    factory = session_factory(engine)
    published = Recorder()
    with factory() as session:  # the transaction that would record the failure rolls back
        service = Reports(scope(session, org_id), org_id, config, publish=published)
        lost = service.request("monthly_cost_review", PERIOD, "json", None, now=NOW, requested_by=analyst).id
        service.fail(lost, "worker lost", NOW)
        session.rollback()
    assert published.events == []
    with tenant_session(factory, org_id) as session:
        assert _notices(session, org_id) == []
        service = Reports(session, org_id, config, publish=published)
        report_id = service.request(
            "monthly_cost_review", PERIOD, "json", None, now=NOW, requested_by=analyst
        ).id
        service.fail(report_id, "the cost database was unreachable", NOW)
    with factory() as session:
        (notice,) = _notices(session, org_id)
    assert notice.severity == "warning" and notice.title == "Report failed: Monthly cost review"
    assert "the cost database was unreachable" in notice.summary
    assert (
        notice.payload["status"] == "failed"
        and notice.payload["error"] == "the cost database was unreachable"
    )
    assert len(published.events) == 1


def test_a_scheduled_run_reaches_only_the_rules(
    engine: Engine, org: tuple[uuid.UUID, uuid.UUID], config: ReportsConfig
) -> None:
    """No requester: nobody in-app by default; an admin's channel rule queues one webhook delivery."""
    org_id, _ = org
    factory = session_factory(engine)
    cipher = CredentialCipher(Fernet.generate_key().decode())
    with tenant_session(factory, org_id) as session:
        channel = NotificationDelivery(session, org_id, cipher=cipher, smtp=None).create_channel(
            name="reports-hook",
            kind="webhook",
            target="https://hooks.example.com/reports",
            secret="s3cret-signing-key-0123456789",
            now=NOW,
        )
        NotificationRules(session, org_id).create(
            name="reports to the hook", event_type="report.ready", channel_id=channel.id, now=NOW
        )
        service = Reports(session, org_id, config)
        report_id = service.request("monthly_cost_review", PERIOD, "csv", None, now=NOW).id
        assert service.generate(report_id, NOW).status == "completed"
        service.generate(report_id, NOW)  # retried: still one delivery
    with factory() as session:
        assert _notices(session, org_id) == []
        deliveries = list(
            session.scalars(
                select(NotificationDeliveryRow).where(NotificationDeliveryRow.organization_id == org_id)
            )
        )
    assert [(d.channel_id, d.idempotency_key) for d in deliveries] == [
        (channel.id, f"report.ready:{report_id}")
    ]
    assert deliveries[0].notice["link"] == f"https://finops.example.com/v1/reports/{report_id}"
    # Without CLOUDOPTIMA_PUBLIC_URL the channel still gets an absolute link, under the gateway's address.
    gateway = dataclasses.replace(config, public_url=None, notice_base_url="http://127.0.0.1:8000")
    with tenant_session(factory, org_id) as session:
        service = Reports(session, org_id, gateway)
        second = service.request("monthly_cost_review", PERIOD, "csv", None, now=NOW).id
        assert service.generate(second, NOW).status == "completed"
    with factory() as session:
        row = session.scalars(
            select(NotificationDeliveryRow).where(
                NotificationDeliveryRow.organization_id == org_id,
                NotificationDeliveryRow.idempotency_key == f"report.ready:{second}",
            )
        ).one()
    assert row.notice["link"] == f"http://127.0.0.1:8000/v1/reports/{second}"
    # With the console (Settings.resolved_console_url): the channel links to its reports page.
    console = dataclasses.replace(gateway, console_url="https://finops.example.com/console")
    with tenant_session(factory, org_id) as session:
        service = Reports(session, org_id, console)
        third = service.request("monthly_cost_review", PERIOD, "csv", None, now=NOW).id
        assert service.generate(third, NOW).status == "completed"
    with factory() as session:
        row = session.scalars(
            select(NotificationDeliveryRow).where(
                NotificationDeliveryRow.organization_id == org_id,
                NotificationDeliveryRow.idempotency_key == f"report.ready:{third}",
            )
        ).one()
    assert row.notice["link"] == "https://finops.example.com/console/reports"
