"""Retention on the real database at a pinned ``now`` in 2001 (data in 2000, far from other tests' months):
rows just inside and outside each cutoff, whole cost and utilisation months dropped, the daily rollup and
the dashboard totals unchanged, audit / notifications / chat checkpoint threads pruned; the dry run counts
exactly what the run then removes and changes nothing; a second run removes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from langgraph.checkpoint.postgres import PostgresSaver
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.services.audit import AuditEntry, record
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.retention import RetentionPolicy, run_all
from cloudoptima.storage.cost_loader import refresh_daily_rollup
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog, CostDaily, CostRow, Notification, Organization, User
from cloudoptima.storage.partitions import (
    ensure_cost_partitions,
    ensure_month_partitions,
    utilisation_partition_name,
)

NOW = datetime(2001, 6, 15, 12, tzinfo=UTC)
POLICY = RetentionPolicy(
    cost_rows_days=400, utilisation_days=93, notifications_days=180, chat_checkpoints_days=90
)
COST_DAYS = [date(2000, 3, 31), date(2000, 4, 1), date(2000, 4, 30), date(2000, 5, 1), date(2000, 5, 12)]
"""Cutoff 2000-05-11 12:00: March and April are whole months before it (dropped); May is kept whole."""


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def org(engine: Engine, factory: sessionmaker[Session]) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with factory() as session, session.begin():
        session.add(
            Organization(id=org_id, name=f"retention-{org_id}", subscription_tier="free", settings={})
        )
        session.flush()
        user = User(organization_id=org_id, email=f"r-{org_id}@example.com", password_hash="-", role="admin")
        session.add(user)
        session.flush()
        connection = session.connection()
        ensure_cost_partitions(connection, [date(2000, 3, 1), date(2000, 4, 1), date(2000, 5, 1)])
        ensure_month_partitions(
            connection,
            "utilisation_daily",
            [date(2000, 1, 1)],
            utilisation_partition_name,
            bound=date.isoformat,
        )
        for n, day in enumerate(COST_DAYS):
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            cost = Decimal("10.25") + n
            session.add(
                CostRow(
                    organization_id=org_id, provider="aws", provider_name="AWS", charge_period_start=start,
                    charge_period_end=start + timedelta(days=1), billing_period_start=start.replace(day=1),
                    billing_period_end=start.replace(day=1) + timedelta(days=32), billed_cost=cost,
                    effective_cost=cost, billing_account_id="111111111111", sub_account_id="111111111111",
                    billing_currency="USD", charge_category="Usage", service_name="EC2",
                    region_id="us-east-1", resource_id=f"i-{n}", resource_name=f"i-{n}", tags={},
                )
            )  # fmt: skip
        session.flush()
        refresh_daily_rollup(connection, org_id, date(2000, 3, 1), date(2000, 6, 1), ())
        notices = NOW - timedelta(days=180)
        for key, at in (
            ("out", notices - timedelta(seconds=1)),
            ("edge", notices),
            ("in", notices + timedelta(minutes=1)),
        ):
            session.add(
                Notification(
                    organization_id=org_id, user_id=user.id, event_type="test", severity="info", title=key,
                    summary=key, payload={}, idempotency_key=key, created_at=at,
                )
            )  # fmt: skip
    audit_cutoff = NOW - timedelta(days=365)
    for action, at in (
        ("old", audit_cutoff - timedelta(minutes=1)),
        ("kept", audit_cutoff + timedelta(minutes=1)),
    ):
        record(
            factory, AuditEntry(org_id, None, f"test.{action}", "success", channel="workflow", timestamp=at)
        )
    yield org_id
    with factory() as session, session.begin():
        for model in (Notification, AuditLog, CostDaily, CostRow, User):
            session.execute(delete(model).where(model.organization_id == org_id))  # type: ignore[attr-defined]
        session.execute(delete(Organization).where(Organization.id == org_id))


def _checkpoint_threads(pg_url: str) -> tuple[str, str]:
    """Two chat threads in the real LangGraph checkpointer tables: one whose newest checkpoint is 91 days
    old (pruned), one whose newest is 89 days old though its first is older (kept)."""
    parsed = make_url(pg_url)
    with psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, dbname=parsed.database, autocommit=True
    ) as connection:
        PostgresSaver(connection).setup()  # type: ignore[arg-type]
        threads = (f"chat:{uuid.uuid4()}:old", f"chat:{uuid.uuid4()}:recent")
        for thread, newest in zip(threads, (NOW - timedelta(days=91), NOW - timedelta(days=89)), strict=True):
            for n, ts in enumerate((NOW - timedelta(days=400), newest)):
                connection.execute(
                    "INSERT INTO checkpoints (thread_id, checkpoint_id, checkpoint) VALUES (%s, %s, %s)",
                    (thread, f"c{n}", json.dumps({"ts": ts.isoformat(), "v": 1})),
                )
            connection.execute(
                "INSERT INTO checkpoint_blobs (thread_id, channel, version, type) VALUES (%s, 'messages', '1', 'empty')",
                (thread,),
            )
            connection.execute(
                "INSERT INTO checkpoint_writes (thread_id, checkpoint_id, task_id, idx, channel, blob) "
                "VALUES (%s, 'c1', 't', 0, 'messages', '\\x00')",
                (thread,),
            )
    return threads


def _thread_rows(engine: Engine, thread: str) -> int:
    with engine.connect() as connection:
        return sum(
            int(
                connection.execute(
                    text(f"SELECT count(*) FROM {t} WHERE thread_id = :t"), {"t": thread}
                ).scalar()
                or 0
            )
            for t in ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
        )


def _overview_total(engine: Engine, org_id: uuid.UUID, start: date, end: date) -> Decimal:
    with engine.connect() as connection:
        return CostAnalytics(connection, org_id).overview(start, end).total_cost


def test_retention_at_a_pinned_now(
    engine: Engine, factory: sessionmaker[Session], org: uuid.UUID, pg_url: str
) -> None:
    old_thread, recent_thread = _checkpoint_threads(pg_url)
    rollup_before = _rollup(engine, org)
    total_before = _overview_total(engine, org, date(2000, 3, 1), date(2000, 6, 1))
    kept_before = _overview_total(engine, org, date(2000, 5, 1), date(2000, 6, 1))

    dry = {r.family: r for r in run_all(factory, POLICY, now=NOW, dry_run=True)}
    assert dry["cost_rows"].partitions == ("cost_data_y2000m03", "cost_data_y2000m04")
    assert dry["cost_rows"].cutoff == datetime(2000, 5, 1, tzinfo=UTC)
    assert _cost_days(engine, org) == COST_DAYS and _thread_rows(engine, old_thread) == 4

    done = {r.family: r for r in run_all(factory, POLICY, now=NOW, dry_run=False)}
    assert {f: r.removed for f, r in done.items()} == {f: r.removed for f, r in dry.items()}
    assert done["cost_rows"].partitions == ("cost_data_y2000m03", "cost_data_y2000m04")
    assert "utilisation_daily_y2000m01" in done["utilisation"].partitions
    assert _cost_days(engine, org) == [date(2000, 5, 1), date(2000, 5, 12)]
    with engine.connect() as connection:
        names = set(
            connection.execute(text("SELECT relname FROM pg_class WHERE relname LIKE '%_y2000m%'")).scalars()
        )
    assert {"cost_data_y2000m03", "cost_data_y2000m04", "utilisation_daily_y2000m01"}.isdisjoint(names)
    assert "cost_data_y2000m05" in names

    assert _rollup(engine, org) == rollup_before
    assert (
        _overview_total(engine, org, date(2000, 3, 1), date(2000, 6, 1)) == total_before == Decimal("61.25")
    )
    assert _overview_total(engine, org, date(2000, 5, 1), date(2000, 6, 1)) == kept_before == Decimal("27.50")

    with factory() as session:
        notices = sorted(
            session.scalars(select(Notification.title).where(Notification.organization_id == org))
        )
        actions = sorted(session.scalars(select(AuditLog.action).where(AuditLog.organization_id == org)))
    assert notices == ["edge", "in"]
    assert actions == ["audit_logs.pruned", "test.kept"]
    assert done["audit"].removed >= 1 and done["notifications"].removed >= 1
    assert _thread_rows(engine, old_thread) == 0 and _thread_rows(engine, recent_thread) == 4
    assert done["chat_checkpoints"].removed >= 1

    again = run_all(factory, POLICY, now=NOW, dry_run=False)
    assert {r.family: (r.removed, r.partitions) for r in again} == {
        family: (0, ())
        for family in ("cost_rows", "utilisation", "audit", "notifications", "chat_checkpoints")
    }


def _rollup(engine: Engine, org_id: uuid.UUID) -> list[tuple[date, Decimal, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(CostDaily.usage_date, func.sum(CostDaily.billed_cost), func.sum(CostDaily.row_count))
            .where(CostDaily.organization_id == org_id)
            .group_by(CostDaily.usage_date)
            .order_by(CostDaily.usage_date)
        ).all()
    return [(d, c, int(n)) for d, c, n in rows]


def _cost_days(engine: Engine, org_id: uuid.UUID) -> list[date]:
    with engine.connect() as connection:
        starts = connection.execute(
            select(CostRow.charge_period_start)
            .where(CostRow.organization_id == org_id)
            .order_by(CostRow.charge_period_start)
        ).scalars()
        return [s.astimezone(UTC).date() for s in starts]


def test_policy_and_settings_refuse_unsafe_values() -> None:
    from pydantic import ValidationError

    from cloudoptima.settings import load_settings

    with pytest.raises(ValueError, match="notifications_days: must be at least 1 day"):
        RetentionPolicy(
            cost_rows_days=400, utilisation_days=93, notifications_days=0, chat_checkpoints_days=90
        )
    with pytest.raises(
        ValidationError, match="COST_ROWS_RETENTION_DAYS \\(30\\) is below its safe minimum of 400"
    ):
        load_settings(cost_rows_retention_days=30)
    allowed = load_settings(cost_rows_retention_days=30, retention_allow_short=True)
    assert RetentionPolicy.from_settings(allowed).cost_rows_days == 30
