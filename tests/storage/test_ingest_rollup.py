"""The ``cost_daily`` rollup maintained by the loader equals a rebuild from ``cost_data``, whichever way it
was maintained (rows added to existing rollup rows, or a re-ingest that replaced rows), and quarantine rows
in the database name the source file's columns."""

from __future__ import annotations

import csv
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, delete, select, text

from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.cost_loader import refresh_daily_rollup
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow

FIXTURES = Path(__file__).parents[1] / "fixtures"
FOCUS_SAMPLE = FIXTURES / "focus_official_sample" / "focus_1.0_sample_1000.csv"
AWS_CUR = FIXTURES / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"
TAG_KEYS = ["environment", "application", "team", "business_unit"]


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="rollup", subscription_tier="free", settings={"rollup_tag_keys": TAG_KEYS}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _rewrite(source: Path, target: Path, column: str, value: str) -> Path:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    index = rows[0].index(column)
    for row in rows[1:]:
        row[index] = value
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def _rollup(connection: Connection, org: uuid.UUID) -> Counter[tuple[object, ...]]:
    rows = connection.execute(
        text(
            """
            SELECT usage_date, cloud_account_id, provider, billing_account_id, sub_account_id, service_name,
                service_category, region_id, charge_category, billing_currency, tag_values::text,
                billed_cost, effective_cost, list_cost, row_count
            FROM cost_daily WHERE organization_id = :o
            """
        ),
        {"o": org},
    ).all()
    # Decimal equality ignores trailing zeros (1.20 == 1.2), as numeric comparison in Postgres does.
    return Counter(tuple(Decimal(v) if isinstance(v, Decimal) else v for v in row) for row in rows)


def _assert_rollup_equals_rebuild(engine: Engine, org: uuid.UUID) -> Counter[tuple[object, ...]]:
    with engine.connect() as connection:
        maintained = _rollup(connection, org)
        refresh_daily_rollup(connection, org, date(2000, 1, 1), date(2100, 1, 1), tuple(TAG_KEYS))
        rebuilt = _rollup(connection, org)
        connection.rollback()
    assert maintained == rebuilt
    return maintained


def test_second_export_on_the_same_days_is_added_to_the_rollup(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    ingest_path(engine, FOCUS_SAMPLE, org)
    first = _assert_rollup_equals_rebuild(engine, org)
    other = _rewrite(
        FOCUS_SAMPLE, tmp_path / "other_account.csv", "BillingAccountId", "other-billing-account"
    )
    report = ingest_path(engine, other, org)
    assert report.load.rows_replaced == 0
    both = _assert_rollup_equals_rebuild(engine, org)
    assert sum(both.values()) > sum(first.values())
    with engine.connect() as connection:
        rollup_total, raw_total = connection.execute(
            text(
                "SELECT (SELECT sum(billed_cost) FROM cost_daily WHERE organization_id = :o),"
                " (SELECT sum(billed_cost) FROM cost_data WHERE organization_id = :o)"
            ),
            {"o": org},
        ).one()
    assert rollup_total == raw_total


def test_reingest_replaces_rows_and_rebuilds_the_rollup(engine: Engine, org: uuid.UUID) -> None:
    ingest_path(engine, AWS_CUR, org)
    ingest_path(engine, FOCUS_SAMPLE, org)
    before = _assert_rollup_equals_rebuild(engine, org)
    report = ingest_path(engine, FOCUS_SAMPLE, org)
    assert report.load.rows_replaced == report.summary.rows_accepted
    assert _assert_rollup_equals_rebuild(engine, org) == before


def test_quarantine_rows_in_the_database_name_source_columns(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    with AWS_CUR.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("lineItem/UnblendedCost")] = "twelve"
    broken = tmp_path / "cur.csv"
    with broken.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    ingest_path(engine, broken, org)
    with engine.connect() as connection:
        stored = connection.execute(
            select(QuarantinedRow.source_file, QuarantinedRow.line, QuarantinedRow.column_name).where(
                QuarantinedRow.organization_id == org
            )
        ).all()
    # BilledCost and EffectiveCost are both read from that cell: both records name it.
    assert {tuple(row) for row in stored} == {(str(broken), 2, "lineItem/UnblendedCost")}
