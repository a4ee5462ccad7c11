"""Cost-data trust: reconciliation with the files' own totals, dropped days, duplicated files, freshness."""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from cloudoptima.domain.data_trust import TrustPolicy
from cloudoptima.services.data_trust.service import freshness, period_trust, reconcile_month
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow

FIXTURES = Path(__file__).parents[1] / "fixtures"
FOCUS_SAMPLE = FIXTURES / "focus_official_sample" / "focus_1.0_sample_1000.csv"
AWS_CUR = FIXTURES / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"
CUR_ACCOUNT = "123412340534"
FOCUS_ACCOUNT = "1234567890123"
CLOSED = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="trust", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM ingest_file_totals WHERE organization_id = :o"), {"o": org_id})
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _cur_rows() -> tuple[list[str], list[dict[str, str]]]:
    with AWS_CUR.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _cur_total(rows: list[dict[str, str]]) -> Decimal:
    return sum(
        (Decimal(r["lineItem/UnblendedCost"]) for r in rows if r["lineItem/UnblendedCost"]), Decimal(0)
    )


def _reconcile(engine: Engine, org: uuid.UUID, month: date, now: datetime = CLOSED) -> list:  # type: ignore[type-arg]
    with Session(engine) as session:
        return reconcile_month(session, org, month, now).accounts


def test_the_cur_sample_reconciles_to_its_own_total(engine: Engine, org: uuid.UUID) -> None:
    _, rows = _cur_rows()
    ingest_path(engine, AWS_CUR, org)
    [item] = _reconcile(engine, org, date(2023, 11, 1))
    assert item.account.billing_account_id == CUR_ACCOUNT
    assert item.origin == "file" and item.basis == "billed"
    assert "UnblendedCost" in item.provider_basis
    assert item.comparison.startswith("billed vs billed") and item.unavailable_reason is None
    assert item.our_total == item.provider_total == _cur_total(rows)
    assert item.delta == 0 and item.status == "reconciled"
    # The sample's billing period is all of November but its rows stop on the 14th: the closed month's last
    # days are named.
    [edge] = item.findings
    assert edge.kind == "missing_edge_day" and (edge.days[0], edge.days[-1]) == (
        date(2023, 11, 15),
        date(2023, 11, 30),
    )
    assert "2023-11-15 – 2023-11-30 (16 days)" in edge.message and "last days" in edge.message
    assert item.invoice_ids == []  # the anonymised CUR sample's bill/InvoiceId is blank
    assert item.tolerance == Decimal("0.01")  # 0.01 % of ~1.68 is below the 0.01 floor
    assert (item.first_day, item.last_day) == (date(2023, 11, 1), date(2023, 11, 14))
    bases = {b.basis: b for b in item.other_bases}
    assert sorted(bases) == ["effective", "list"] and all(b.delta == 0 for b in bases.values())
    assert bases["effective"].our_total == bases["effective"].provider_total > 0


def test_a_dropped_day_is_found_and_named(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    header, rows = _cur_rows()
    kept = [r for r in rows if not r["lineItem/UsageStartDate"].startswith("2023-11-07")]
    assert len(kept) < len(rows)
    ingest_path(engine, _write(tmp_path / "cur_without_7th.csv", header, kept), org)
    [item] = _reconcile(engine, org, date(2023, 11, 1))
    dropped = [f for f in item.findings if f.kind == "dropped_day"]
    assert [(f.kind, f.day) for f in dropped] == [("dropped_day", date(2023, 11, 7))]
    assert "2023-11-07" in dropped[0].message and CUR_ACCOUNT in dropped[0].message


def test_rows_lost_after_ingest_are_a_mismatch_with_the_delta(engine: Engine, org: uuid.UUID) -> None:
    ingest_path(engine, FOCUS_SAMPLE, org)
    lost_day = datetime(2024, 9, 10, tzinfo=UTC)
    params = {"o": org, "a": FOCUS_ACCOUNT, "d0": lost_day, "d1": lost_day + timedelta(days=1)}
    with engine.begin() as connection:
        lost = (
            connection.execute(
                text(
                    "DELETE FROM cost_data WHERE organization_id = :o AND billing_account_id = :a "
                    "AND charge_period_start >= :d0 AND charge_period_start < :d1 RETURNING billed_cost"
                ),
                params,
            )
            .scalars()
            .all()
        )
        connection.execute(
            text(
                "DELETE FROM cost_daily WHERE organization_id = :o AND billing_account_id = :a AND usage_date = :d"
            ),
            {"o": org, "a": FOCUS_ACCOUNT, "d": lost_day.date()},
        )
    assert lost
    items = {i.account.billing_account_id: i for i in _reconcile(engine, org, date(2024, 9, 1))}
    item = items[FOCUS_ACCOUNT]
    assert item.status == "mismatch"
    assert item.delta == -sum(lost, Decimal(0))
    assert item.provider_total is not None and item.our_total == item.provider_total + item.delta
    assert item.delta_percent is not None and item.delta_percent < 0
    assert [f.day for f in item.findings if f.kind == "dropped_day"] == [date(2024, 9, 10)]
    others = [i for i in items.values() if i.account.billing_account_id != FOCUS_ACCOUNT]
    assert others and all(i.status == "reconciled" and i.delta == 0 for i in others)


def test_the_same_file_twice_in_one_load_is_found_and_double_counted(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    _, rows = _cur_rows()
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(AWS_CUR, folder / "cur-2023-11.csv")
    shutil.copy(AWS_CUR, folder / "cur-2023-11-copy.csv")
    ingest_path(engine, folder, org)
    [item] = _reconcile(engine, org, date(2023, 11, 1))
    total = _cur_total(rows)
    assert item.provider_total == total and item.our_total == 2 * total
    assert item.status == "mismatch" and item.delta == total and item.delta_percent == Decimal("100.0000")
    effective = next(b for b in item.other_bases if b.basis == "effective")
    assert effective.delta == effective.provider_total and effective.our_total == 2 * effective.delta
    [finding] = [f for f in item.findings if f.kind == "duplicate_file"]
    assert finding.kind == "duplicate_file" and finding.double_counted
    assert sorted(Path(f).name for f in finding.files) == ["cur-2023-11-copy.csv", "cur-2023-11.csv"]


def test_the_same_file_loaded_again_under_another_name_is_found(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    first = shutil.copy(AWS_CUR, tmp_path / "november.csv")
    second = shutil.copy(AWS_CUR, tmp_path / "november-again.csv")
    ingest_path(engine, first, org)
    ingest_path(engine, second, org)  # replaces the first load's rows (same billing period)
    [item] = _reconcile(engine, org, date(2023, 11, 1))
    assert item.status == "reconciled" and item.delta == 0
    [finding] = [f for f in item.findings if f.kind == "duplicate_file"]
    assert finding.kind == "duplicate_file" and not finding.double_counted
    assert "november-again.csv" in finding.message and "replaced" in finding.message


def test_open_month_restates_and_a_wider_tolerance_accepts_a_small_delta(
    engine: Engine, org: uuid.UUID
) -> None:
    ingest_path(engine, AWS_CUR, org)
    [item] = _reconcile(engine, org, date(2023, 11, 1), now=datetime(2023, 12, 2, tzinfo=UTC))
    assert item.status == "restating" and not item.month_closed
    assert TrustPolicy(tolerance_percent=Decimal("1")).tolerance(Decimal("1000")) == Decimal("10")
    assert _reconcile(engine, org, date(2023, 10, 1)) == []


def test_freshness_and_the_days_a_chart_should_flag(engine: Engine, org: uuid.UUID) -> None:
    ingest_path(engine, AWS_CUR, org)
    now = datetime(2023, 11, 15, 6, tzinfo=UTC)
    with Session(engine) as session:
        report = freshness(session, org, now)
        trust = period_trust(session, org, date(2023, 11, 1), date(2023, 11, 16), now)
    [account] = report.accounts
    assert account.latest_usage_day == date(2023, 11, 14) and account.last_arrived_at is not None
    assert account.origin == "file" and "UnblendedCost" in account.basis_source  # the CUR's billed cost
    assert account.restating_days == [date(2023, 11, 12), date(2023, 11, 13), date(2023, 11, 14)]
    assert trust.unreconciled_days == [date(2023, 11, d) for d in (12, 13, 14, 15)]
    assert all("restatement" in r[0] for r in trust.reasons.values())


def test_a_month_without_file_totals_still_flags_its_dropped_day(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    header, rows = _cur_rows()
    kept = [r for r in rows if not r["lineItem/UsageStartDate"].startswith("2023-11-07")]
    ingest_path(engine, _write(tmp_path / "cur.csv", header, kept), org)
    with engine.begin() as connection:  # as for collected accounts: no provider totals recorded
        connection.execute(text("DELETE FROM ingest_file_totals WHERE organization_id = :o"), {"o": org})
    with Session(engine) as session:
        trust = period_trust(session, org, date(2023, 11, 1), date(2023, 11, 10), CLOSED)
        [item] = reconcile_month(session, org, date(2023, 11, 1), CLOSED).accounts
    assert trust.unreconciled_days == [date(2023, 11, 7)]
    assert trust.reasons[date(2023, 11, 7)] == [f"aws {CUR_ACCOUNT}: no rows (dropped day)"]
    assert item.status == "provider_total_unavailable" and item.provider_total is None and item.delta is None


@pytest.mark.parametrize(
    "sample",
    [
        FIXTURES / "focus_converters" / "azure_ea_actual_anonymized_2023-09.csv",
        FIXTURES / "koku" / "gcp" / "2022-08-01_5.csv",
        FIXTURES / "finops_toolkit" / "azure_ea_amortizedcost_small.csv",
        FIXTURES / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv",
    ],
    ids=lambda p: p.name,
)
def test_azure_gcp_and_focus_13_samples_reconcile(engine: Engine, org: uuid.UUID, sample: Path) -> None:
    ingest_path(engine, sample, org)
    with engine.connect() as connection:
        months = connection.execute(
            text(
                "SELECT DISTINCT date_trunc('month', billing_period_start AT TIME ZONE 'UTC')::date, "
                "sum(billed_cost) OVER () FROM cost_data WHERE organization_id = :o"
            ),
            {"o": org},
        ).all()
    assert months
    items = [i for month, _ in months for i in _reconcile(engine, org, month)]
    assert items and all(i.status == "reconciled" and i.delta == 0 for i in items), items
    assert not [f for i in items for f in i.findings if f.kind == "duplicate_file"]
    assert sum((i.our_total for i in items), Decimal(0)) == months[0][1]
    if sample.name.startswith("focus_1.3"):  # the only sample that names its invoice
        assert {x for i in items for x in i.invoice_ids} == {"INV-2023-01"}
