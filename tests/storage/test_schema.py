"""The migrated schema: every table, monthly partitioning of cost_data, pgvector, exact money."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from cloudoptima.storage.base import Base
from cloudoptima.storage.models import CostRow, Organization
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between

EXPECTED_TABLES = {
    "organizations",
    "users",
    "cloud_accounts",
    "cost_data",
    "budgets",
    "recommendations",
    "policies",
    "policy_executions",
    "anomalies",
    "resources",
    "audit_logs",
    "api_keys",
    "refresh_tokens",
    "revoked_tokens",
}


def test_every_table_exists_and_matches_the_models(engine: Engine) -> None:
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    assert tables >= EXPECTED_TABLES
    for table in Base.metadata.sorted_tables:
        db_columns = {c["name"] for c in inspector.get_columns(table.name)}
        model_columns = {c.name for c in table.columns}
        assert model_columns == db_columns, f"{table.name}: model and migration differ"


def test_cost_data_is_range_partitioned_and_vector_is_enabled(db_session: Session) -> None:
    strategy = db_session.execute(
        text("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'cost_data'::regclass")
    ).scalar()
    assert strategy == "r"
    assert db_session.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar()
    assert db_session.execute(text("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector")).scalar() == 1.0


def test_monthly_partitions_are_created_on_demand(db_session: Session) -> None:
    months = months_between(date(2031, 11, 15), date(2032, 2, 1))
    assert months == [date(2031, 11, 1), date(2031, 12, 1), date(2032, 1, 1)]
    created = ensure_cost_partitions(db_session.connection(), months)
    assert created == ["cost_data_y2031m11", "cost_data_y2031m12", "cost_data_y2032m01"]
    assert ensure_cost_partitions(db_session.connection(), months) == []


def test_money_is_exact_end_to_end(db_session: Session) -> None:
    org = Organization(name="exact", subscription_tier="free", settings={})
    db_session.add(org)
    db_session.flush()
    ensure_cost_partitions(db_session.connection(), [date(2031, 5, 1)])
    amounts = [Decimal("0.000000001"), Decimal("12345678901.123456789"), Decimal("-2.61")]
    start = datetime(2031, 5, 3, tzinfo=UTC)
    for amount in amounts:
        db_session.add(
            CostRow(
                id=uuid.uuid4(),
                organization_id=org.id,
                provider="aws",
                charge_period_start=start,
                charge_period_end=datetime(2031, 5, 4, tzinfo=UTC),
                billing_period_start=datetime(2031, 5, 1, tzinfo=UTC),
                billing_period_end=datetime(2031, 6, 1, tzinfo=UTC),
                billed_cost=amount,
                billing_account_id="123",
                billing_currency="USD",
                charge_category="Usage",
                provider_name="AWS",
            )
        )
    db_session.flush()
    total = db_session.scalar(select(func.sum(CostRow.billed_cost)).where(CostRow.organization_id == org.id))
    assert total == sum(amounts)
    partition = db_session.execute(
        text("SELECT count(*) FROM cost_data_y2031m05 WHERE organization_id = :o"), {"o": org.id}
    ).scalar()
    assert partition == 3
