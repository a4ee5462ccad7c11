"""Per-user digests: when a digest is due (pinned clocks across time zones and DST changes, weekly on the local
weekday, once per period, one catch-up), its numbers against the services the API answers with for seeded
data, delivery by email to a real local SMTP server and to the in-app inbox, and an SMTP outage that is
recorded and retried on the next pass."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.budgets import BudgetStatus
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.notifications.email import SmtpSender
from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.digests import (
    DigestError,
    Digests,
    digest_schedule,
    idempotency_key,
    is_due,
    latest_send_time,
    next_send_time,
    period_at,
    send_due,
)
from cloudoptima.services.inbox import Inbox
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import (
    Anomaly,
    Budget,
    NotificationDigestRow,
    Organization,
    PolicyExecution,
    Recommendation,
    User,
)
from cloudoptima.storage.tenancy import tenant_session
from tests.notifications.smtp_server import PASSWORD, USERNAME, LocalSmtp, running_smtp
from tests.reports.cost_seeding import Cost, add_costs

D = Decimal
BASE_URL = "https://finops.example.com"
BERLIN = "Europe/Berlin"
# 08:15 in Berlin (CET, UTC+1) on Monday 7 December 2026: the daily 08:00 digest covers 6 December.
NOW = datetime(2026, 12, 7, 7, 15, tzinfo=UTC)


def _row(
    frequency: str = "daily",
    *,
    day_of_week: int | None = None,
    time_of_day: str = "08:00",
    timezone: str = "UTC",
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    last_sent_at: datetime | None = None,
) -> NotificationDigestRow:
    return NotificationDigestRow(
        organization_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        frequency=frequency,
        day_of_week=day_of_week,
        time_of_day=time_of_day,
        timezone=timezone,
        channel="in_app",
        created_at=created_at,
        last_sent_at=last_sent_at,
    )


def _passes(row: NotificationDigestRow, start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    """Run a pass every ``every`` from ``start`` to ``end``; the pass times that sent (and mark them sent)."""
    sent: list[datetime] = []
    now = start
    while now < end:
        if is_due(row, now):
            sent.append(now)
            row.last_sent_at = now
        now += every
    return sent


# ---- when a digest is due ----------------------------------------------------------------------------------
def test_daily_digest_is_due_at_the_local_time_in_each_time_zone() -> None:
    berlin = _row(timezone=BERLIN)  # 08:00 CET = 07:00 UTC in winter
    berlin.last_sent_at = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    assert not is_due(berlin, datetime(2026, 12, 7, 6, 59, tzinfo=UTC))
    assert is_due(berlin, datetime(2026, 12, 7, 7, 0, tzinfo=UTC))
    tokyo = _row(timezone="Asia/Tokyo", last_sent_at=datetime(2026, 12, 5, 23, 0, tzinfo=UTC))
    assert not is_due(tokyo, datetime(2026, 12, 6, 22, 59, tzinfo=UTC))  # 07:59 JST on the 7th
    assert is_due(tokyo, datetime(2026, 12, 6, 23, 0, tzinfo=UTC))  # 08:00 JST on the 7th
    period = period_at(
        digest_schedule(frequency="daily", timezone="Asia/Tokyo"), datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    )
    assert (period.start, period.end) == (date(2026, 12, 6), date(2026, 12, 7))
    assert period.starts_at == datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # local midnight of the 6th


def test_every_15_minute_passes_send_once_per_local_day_across_both_dst_changes() -> None:
    new_york = ZoneInfo("America/New_York")
    for first, last in ((date(2027, 3, 12), date(2027, 3, 17)), (date(2027, 11, 5), date(2027, 11, 10))):
        start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(last, datetime.min.time(), tzinfo=UTC)
        row = _row(timezone="America/New_York", last_sent_at=start)
        sent = _passes(row, start, end, timedelta(minutes=15))
        local = [s.astimezone(new_york) for s in sent]
        assert [(t.hour, t.minute) for t in local] == [(8, 0)] * len(local)
        assert len({t.date() for t in local}) == len(local) == (last - first).days
    # UTC 13:00 before the spring change, 12:00 after it
    assert latest_send_time(
        digest_schedule(frequency="daily", timezone="America/New_York"), datetime(2027, 3, 13, 18, tzinfo=UTC)
    ) == datetime(2027, 3, 13, 13, tzinfo=UTC)
    assert latest_send_time(
        digest_schedule(frequency="daily", timezone="America/New_York"), datetime(2027, 3, 14, 18, tzinfo=UTC)
    ) == datetime(2027, 3, 14, 12, tzinfo=UTC)


def test_a_skipped_or_repeated_local_time_is_sent_once() -> None:
    gap = _row(
        time_of_day="02:30", timezone="America/New_York", last_sent_at=datetime(2027, 3, 13, 8, tzinfo=UTC)
    )
    sent = _passes(
        gap, datetime(2027, 3, 14, 0, tzinfo=UTC), datetime(2027, 3, 15, 0, tzinfo=UTC), timedelta(minutes=15)
    )
    assert sent == [datetime(2027, 3, 14, 7, 30, tzinfo=UTC)]  # 03:30 EDT: 02:30 does not exist that night
    repeated = _row(
        time_of_day="01:30", timezone="America/New_York", last_sent_at=datetime(2027, 11, 6, 6, tzinfo=UTC)
    )
    sent = _passes(
        repeated,
        datetime(2027, 11, 7, 0, tzinfo=UTC),
        datetime(2027, 11, 8, 0, tzinfo=UTC),
        timedelta(minutes=15),
    )
    assert sent == [datetime(2027, 11, 7, 5, 30, tzinfo=UTC)]  # the first 01:30 (EDT), not the second (EST)


def test_weekly_digest_goes_out_on_the_local_weekday() -> None:
    # Monday 09:00 in Tokyo is Sunday 00:00 UTC: the UTC weekday is not the one that counts.
    row = _row(
        "weekly",
        day_of_week=0,
        time_of_day="09:00",
        timezone="Asia/Tokyo",
        last_sent_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    sent = _passes(
        row, datetime(2027, 1, 2, tzinfo=UTC), datetime(2027, 1, 17, tzinfo=UTC), timedelta(hours=1)
    )
    assert sent == [datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 11, 0, tzinfo=UTC)]
    assert {s.astimezone(ZoneInfo("Asia/Tokyo")).weekday() for s in sent} == {0}
    period = period_at(
        digest_schedule(frequency="weekly", day_of_week=0, time_of_day="09:00", timezone="Asia/Tokyo"),
        sent[1],
    )
    assert (period.start, period.end) == (date(2027, 1, 4), date(2027, 1, 11)) and period.previous == (
        date(2026, 12, 28),
        date(2027, 1, 4),
    )


def test_missed_passes_catch_up_once_and_a_new_subscription_waits_for_its_time() -> None:
    row = _row(timezone=BERLIN, last_sent_at=datetime(2026, 12, 1, 7, tzinfo=UTC))
    sent = _passes(row, NOW, NOW + timedelta(hours=12), timedelta(minutes=15))
    assert sent == [NOW]  # five missed days: one digest, for the latest day
    assert (period_at(digest_schedule(frequency="daily", timezone=BERLIN), NOW).start) == date(2026, 12, 6)
    fresh = _row(timezone=BERLIN, created_at=datetime(2026, 12, 7, 14, tzinfo=UTC))  # 15:00 Berlin
    assert not is_due(fresh, datetime(2026, 12, 7, 23, tzinfo=UTC))
    assert is_due(fresh, datetime(2026, 12, 8, 7, tzinfo=UTC))
    schedule = digest_schedule(frequency="daily", timezone=BERLIN)
    assert next_send_time(schedule, datetime(2026, 12, 7, 14, tzinfo=UTC)) == datetime(
        2026, 12, 8, 7, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"frequency": "hourly"}, "frequency"),
        ({"frequency": "weekly"}, "day_of_week"),
        ({"frequency": "weekly", "day_of_week": 7}, "day_of_week"),
        ({"frequency": "daily", "day_of_week": 1}, "day_of_week"),
        ({"frequency": "daily", "time_of_day": "24:00"}, "time_of_day"),
        ({"frequency": "daily", "time_of_day": "8:00"}, "time_of_day"),
        ({"frequency": "daily", "timezone": "Mars/Olympus"}, "timezone"),
        ({"frequency": "daily", "timezone": "../etc/passwd"}, "timezone"),
        ({"frequency": "daily", "channel": "sms"}, "channel"),
    ],
)
def test_bad_subscriptions_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(DigestError) as caught:
        digest_schedule(**fields)  # type: ignore[arg-type]
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: ")


# ---- numbers and delivery against Postgres ----------------------------------------------------------------
@dataclass
class Seeded:
    org: uuid.UUID
    users: dict[str, User]


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def seeded(engine: Engine, factory: sessionmaker[Session]) -> Iterator[Seeded]:
    """An organisation with costs on 5 and 6 December, anomalies inside and outside 6 December (Berlin),
    recommendations, an exceeded budget and one remediation waiting for admins and FinOps managers."""
    with factory() as session, session.begin():
        org = Organization(name=f"digests-{uuid.uuid4().hex[:8]}", settings={})
        session.add(org)
        session.flush()
        users = {}
        for role in ("admin", "finops_manager", "viewer"):
            user = User(
                organization_id=org.id,
                email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                password_hash="x",
                role=role,
            )
            session.add(user)
            users[role] = user
        session.flush()
        for detected, impact in (
            (datetime(2026, 12, 6, 10, tzinfo=UTC), D("42.50")),  # inside the Berlin day
            (datetime(2026, 12, 5, 22, 30, tzinfo=UTC), D("7.25")),  # 23:30 Berlin on the 5th: before
            (datetime(2026, 12, 6, 23, 30, tzinfo=UTC), D("9.00")),  # 00:30 Berlin on the 7th: after
        ):
            session.add(
                Anomaly(
                    organization_id=org.id,
                    detected_at=detected,
                    severity="high",
                    impact_amount=impact,
                    start_date=detected.date(),
                    end_date=detected.date(),
                )
            )
        for savings, status in ((D("12.34"), "active"), (D("0.66"), "active"), (D("100.00"), "dismissed")):
            session.add(
                Recommendation(
                    organization_id=org.id,
                    title=f"Rightsize {savings}",
                    category="compute",
                    risk_level="low",
                    estimated_savings_monthly=savings,
                    affected_resources=[],
                    actions=[],
                    status=status,
                )
            )
        session.add(
            Budget(
                organization_id=org.id,
                name="Platform",
                amount=D("100.00"),
                currency="USD",
                period="monthly",
                start_date=date(2026, 1, 1),
                end_date=date(2027, 1, 1),
                scope_type="account",
                scope_filters={"type": "account"},
                alert_thresholds=[],
            )
        )
        session.add(
            PolicyExecution(
                organization_id=org.id,
                status="pending_approval",
                workflow_id=f"remediation-{uuid.uuid4()}",
                kind="recommendation",
                risk_level="medium",
                plan={"title": "Stop idle instance", "approver_roles": ["finops_manager", "admin"]},
                expires_at=NOW + timedelta(days=1),
            )
        )
        session.flush()
        org_id = org.id
        session.expunge_all()
    add_costs(
        engine,
        org_id,
        [
            Cost(date(2026, 12, 5), D("100.10")),
            Cost(date(2026, 12, 5), D("0.20"), service="AmazonS3"),
            Cost(date(2026, 12, 6), D("150.25")),
            Cost(date(2026, 12, 6), D("0.10"), service="AmazonS3"),
            Cost(date(2026, 12, 6), D("10.125"), service="AmazonRDS"),
        ],
    )
    yield Seeded(org_id, users)
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id == org_id))


def _subscribe(factory: sessionmaker[Session], seeded: Seeded, role: str, channel: str) -> None:
    with tenant_session(factory, seeded.org) as session:
        Digests(session, seeded.org).put(
            seeded.users[role].id,
            digest_schedule(frequency="daily", timezone=BERLIN, channel=channel),
            now=datetime(2026, 12, 1, tzinfo=UTC),
        )


def _row_of(factory: sessionmaker[Session], seeded: Seeded, role: str) -> NotificationDigestRow:
    with tenant_session(factory, seeded.org) as session:
        row = session.scalars(
            select(NotificationDigestRow).where(NotificationDigestRow.user_id == seeded.users[role].id)
        ).one()
        session.expunge(row)
        return row


def test_digest_figures_equal_the_services_answers(factory: sessionmaker[Session], seeded: Seeded) -> None:
    period = period_at(digest_schedule(frequency="daily", timezone=BERLIN), NOW)
    with tenant_session(factory, seeded.org) as session:
        admin = session.get(User, seeded.users["admin"].id)
        viewer = session.get(User, seeded.users["viewer"].id)
        assert admin is not None and viewer is not None
        digests = Digests(session, seeded.org)
        figures = digests.figures(admin, period, now=NOW, base_url=BASE_URL)
        for_viewer = digests.figures(viewer, period, now=NOW, base_url=BASE_URL)

        overview = CostAnalytics.for_organisation(session.connection(), seeded.org).overview(
            date(2026, 12, 6), date(2026, 12, 7), currency="USD"
        )
        recommendations = RecommendationService(
            session, seeded.org, price_catalog_for(session, seeded.org)
        ).list(status=RecommendationStatus.ACTIVE, limit=500)
        budgets = BudgetService(session, seeded.org, now=lambda: NOW, forecast_model="fast")
        [budget] = budgets.list()
        assert budgets.evaluate(budget.id, NOW.date()).status is BudgetStatus.EXCEEDED
        anomalies = AnomalyService(session, seeded.org).list()
    assert figures.currency == "USD"
    assert figures.spend == overview.total_cost == D("160.475")
    assert figures.previous_spend == overview.period_comparison.previous_period == D("100.30")
    assert figures.new_anomalies == 1 and figures.anomaly_impact == D("42.50") and len(anomalies) == 3
    assert (
        figures.open_savings_monthly
        == sum((r.estimated_savings_monthly or D(0) for r in recommendations), D(0))
        == D("13.00")
    )
    assert figures.open_recommendations == 2
    assert figures.budgets_exceeded == ["Platform"] and figures.budgets_at_risk == []
    assert figures.approvals_waiting == 1 and for_viewer.approvals_waiting == 0
    assert figures.links["spend"] == (
        f"{BASE_URL}/v1/costs/overview?start_date=2026-12-06&end_date=2026-12-07&currency=USD"
    )


def test_in_app_digest_appears_once_and_is_not_sent_again(
    factory: sessionmaker[Session], seeded: Seeded
) -> None:
    _subscribe(factory, seeded, "admin", "in_app")
    admin = seeded.users["admin"].id
    first = send_due(factory, NOW, smtp=None, base_url=BASE_URL)
    assert str(admin) not in first.failed
    for later in (NOW, NOW + timedelta(minutes=15), NOW + timedelta(hours=23)):
        again = send_due(factory, later, smtp=None, base_url=BASE_URL)
        assert str(admin) not in again.failed
    with tenant_session(factory, seeded.org) as session:
        items = Inbox(session, seeded.org).list(admin).items
    [item] = [i for i in items if i.event_type == "digest"]
    assert item.title == "Daily digest for 2026-12-06" and item.severity == "critical"
    assert item.payload["amount"] == "160.475" and item.payload["currency"] == "USD"
    assert item.payload["facts"]["New anomalies"].startswith("1, impact 42.50 USD")
    assert item.payload["facts"]["Open savings"].startswith("13.00 USD per month in 2 recommendations")
    assert item.payload["facts"]["Approvals waiting"].startswith("1 for your role")
    row = _row_of(factory, seeded, "admin")
    assert row.last_sent_at == NOW and row.last_error is None
    # the next day sends the next digest, once
    send_due(factory, NOW + timedelta(days=1), smtp=None, base_url=BASE_URL)
    with tenant_session(factory, seeded.org) as session:
        items = Inbox(session, seeded.org).list(admin).items
    assert sorted(i.title for i in items if i.event_type == "digest") == [
        "Daily digest for 2026-12-06",
        "Daily digest for 2026-12-07",
    ]


@pytest.fixture(scope="module")
def smtp() -> Iterator[LocalSmtp]:
    with running_smtp() as server:
        yield server


def _sender(host: str, port: int, smtp: LocalSmtp) -> SmtpSender:
    return SmtpSender(
        host,
        port,
        sender="CloudOptima <digest@finops.example.com>",
        username=USERNAME,
        password=PASSWORD,
        ssl_context=smtp.client_context,
        timeout_s=5,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_email_digest_arrives_and_an_smtp_outage_is_retried_next_pass(
    factory: sessionmaker[Session], seeded: Seeded, smtp: LocalSmtp
) -> None:
    _subscribe(factory, seeded, "finops_manager", "email")
    user = seeded.users["finops_manager"]
    down = _sender("127.0.0.1", _closed_port(), smtp)
    failed = send_due(factory, NOW, smtp=down, base_url=BASE_URL)
    assert str(user.id) in failed.failed
    row = _row_of(factory, seeded, "finops_manager")
    assert row.last_sent_at is None and row.last_attempt_at == NOW
    assert row.last_error is not None and f"127.0.0.1:{down.port}" in row.last_error
    assert not [m for m in smtp.messages if user.email in m.recipients]

    later = NOW + timedelta(minutes=15)
    sent = send_due(factory, later, smtp=_sender(smtp.host, smtp.port, smtp), base_url=BASE_URL)
    assert str(user.id) not in sent.failed
    send_due(
        factory, later + timedelta(minutes=15), smtp=_sender(smtp.host, smtp.port, smtp), base_url=BASE_URL
    )
    [got] = [m for m in smtp.messages if user.email in m.recipients]
    assert got.encrypted and got.authenticated
    message = got.message
    assert message["Subject"] == "[Critical] Daily digest for 2026-12-06"
    period = period_at(digest_schedule(frequency="daily", timezone=BERLIN), NOW)
    assert str(message["X-CloudOptima-Delivery"]).strip() == idempotency_key(user.id, period)
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text = text_part.get_content()
    [amount_line] = [line for line in text.splitlines() if line.startswith("Amount")]
    assert amount_line.endswith("160.48 USD")
    assert "100.30 USD" in text and "+60.18 USD (+60.0%)" in text
    assert "1, impact 42.50 USD" in text and "13.00 USD per month in 2 recommendations" in text
    assert "1 over, 0 at risk (Platform)" in text and "1 for your role" in text
    assert f"Open: {BASE_URL}/v1/costs/overview?start_date=2026-12-06" in text
    assert "160.48 USD" in html_part.get_content()
    row = _row_of(factory, seeded, "finops_manager")
    assert row.last_sent_at == later and row.last_error is None


def test_two_passes_at_once_send_one_email(
    factory: sessionmaker[Session], seeded: Seeded, smtp: LocalSmtp
) -> None:
    _subscribe(factory, seeded, "admin", "email")
    user = seeded.users["admin"]
    sender = _sender(smtp.host, smtp.port, smtp)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: send_due(factory, NOW, smtp=sender, base_url=BASE_URL), range(2)))
    assert all(str(user.id) not in r.failed for r in results)
    assert len([m for m in smtp.messages if user.email in m.recipients]) == 1
    assert _row_of(factory, seeded, "admin").last_sent_at == NOW
