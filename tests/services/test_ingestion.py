"""Billing files into the database: exact totals, atomicity, replacement of re-issued exports, quarantine."""

from __future__ import annotations

import csv
import gzip
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select, text

from cloudoptima.services.ingestion import IngestError, ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow

FIXTURES = Path(__file__).parents[1] / "fixtures"
FOCUS_SAMPLE = FIXTURES / "focus_official_sample" / "focus_1.0_sample_1000.csv"
AWS_CUR = FIXTURES / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    """A committed organisation (ingestion commits), deleted with all its rows afterwards."""
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="ingest", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _source_sum(path: Path, column: str) -> Decimal:
    """The exact Decimal sum of a CSV column, computed independently of the product's reader."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(
            (Decimal(row[column]) for row in csv.DictReader(handle) if row[column] not in ("", "NULL")),
            Decimal(0),
        )


# The README's golden totals are these exact sums rounded to 6 places (20.52022672899 -> 20.520227).
FOCUS_TOTAL = _source_sum(FOCUS_SAMPLE, "BilledCost")
CUR_TOTAL = _source_sum(AWS_CUR, "lineItem/UnblendedCost")
assert round(FOCUS_TOTAL, 6) == Decimal("20.520227")
assert round(CUR_TOTAL, 6) == Decimal("1.682309")


def _db_total(engine: Engine, org: uuid.UUID, table: type[CostRow] | type[CostDaily] = CostRow) -> Decimal:
    with engine.connect() as connection:
        value = connection.execute(
            select(func.coalesce(func.sum(table.billed_cost), 0)).where(table.organization_id == org)
        ).scalar()
    return Decimal(value)


def _count(engine: Engine, org: uuid.UUID) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(CostRow).where(CostRow.organization_id == org)
            ).scalar()
            or 0
        )


def test_focus_sample_total_is_exact_in_raw_rows_and_rollup(engine: Engine, org: uuid.UUID) -> None:
    report = ingest_path(engine, FOCUS_SAMPLE, org)
    assert report.summary.rows_accepted == 1000
    assert report.summary.total_billed_cost() == FOCUS_TOTAL
    assert _db_total(engine, org) == FOCUS_TOTAL
    assert _db_total(engine, org, CostDaily) == FOCUS_TOTAL
    data = report.as_dict()
    assert data["rows_normalised"] > 0
    assert data["normalisations"], "the sample's NULL literals and timestamps are normalisation kinds"
    providers = {t["provider"]: Decimal(t["billed_cost"]) for t in data["totals"]}
    assert sum(providers.values()) == FOCUS_TOTAL


def test_reingesting_the_same_file_never_duplicates(engine: Engine, org: uuid.UUID) -> None:
    ingest_path(engine, FOCUS_SAMPLE, org)
    second = ingest_path(engine, FOCUS_SAMPLE, org)
    assert second.load.rows_replaced == 1000
    assert _count(engine, org) == 1000
    assert _db_total(engine, org) == FOCUS_TOTAL
    assert _db_total(engine, org, CostDaily) == FOCUS_TOTAL


def test_native_cur_reconciles_with_focus_total(engine: Engine, org: uuid.UUID) -> None:
    report = ingest_path(engine, AWS_CUR, org)
    assert report.summary.total_billed_cost() == CUR_TOTAL
    assert _db_total(engine, org) == CUR_TOTAL


def test_reissued_export_replaces_the_older_one(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    ingest_path(engine, FOCUS_SAMPLE, org)
    lines = FOCUS_SAMPLE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    reissued = tmp_path / "reissued.csv"
    reissued.write_text("".join(lines[:501]), encoding="utf-8")
    report = ingest_path(engine, reissued, org)
    assert _count(engine, org) == report.summary.rows_accepted + (1000 - report.load.rows_replaced)
    assert report.load.rows_replaced >= report.summary.rows_accepted


def test_bad_file_leaves_the_database_as_it_was(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    ingest_path(engine, FOCUS_SAMPLE, org)
    before = (_count(engine, org), _db_total(engine, org), _db_total(engine, org, CostDaily))
    truncated = tmp_path / "truncated.csv.gz"
    with gzip.open(truncated, "wb") as handle:
        handle.write(FOCUS_SAMPLE.read_bytes())
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(IngestError, match=r"truncated\.csv\.gz"):
        ingest_path(engine, truncated, org)
    assert (_count(engine, org), _db_total(engine, org), _db_total(engine, org, CostDaily)) == before
    with engine.connect() as connection:
        failed = connection.execute(
            select(IngestRun.error).where(IngestRun.organization_id == org, IngestRun.status == "failed")
        ).scalar()
    assert failed is not None and "truncated.csv.gz" in failed


def test_folder_with_one_bad_file_writes_nothing(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(FOCUS_SAMPLE, folder / "a.csv")
    (folder / "b.csv").write_text("not;a;billing;file\n1;2;3;4\n")
    with pytest.raises(IngestError, match=r"b\.csv"):
        ingest_path(engine, folder, org)
    assert _count(engine, org) == 0


def test_quarantined_rows_are_stored_with_file_line_column(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    with FOCUS_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[:10]
    rows[1][rows[0].index("BillingCurrency")] = "usdollars"
    broken = tmp_path / "broken.csv"
    with broken.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    report = ingest_path(engine, broken, org)
    assert report.summary.rows_quarantined == 1
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                QuarantinedRow.source_file,
                QuarantinedRow.line,
                QuarantinedRow.column_name,
                QuarantinedRow.reason,
            ).where(QuarantinedRow.organization_id == org)
        ).all()
    assert len(rows) == 1
    source, line, column, reason = rows[0]
    assert source.endswith("broken.csv")
    assert line == 2
    assert column in ("BillingCurrency", "billing_currency")
    assert reason


def test_rollup_matches_raw_rows_per_day(engine: Engine, org: uuid.UUID) -> None:
    ingest_path(engine, FOCUS_SAMPLE, org)
    with engine.connect() as connection:
        mismatches = connection.execute(
            text(
                """
                SELECT r.day FROM (
                    SELECT (charge_period_start AT TIME ZONE 'UTC')::date AS day, sum(billed_cost) AS cost
                    FROM cost_data WHERE organization_id = :o GROUP BY 1) r
                FULL JOIN (SELECT usage_date AS day, sum(billed_cost) AS cost FROM cost_daily
                           WHERE organization_id = :o GROUP BY 1) d USING (day)
                WHERE r.cost IS DISTINCT FROM d.cost
                """
            ),
            {"o": org},
        ).all()
    assert mismatches == []
