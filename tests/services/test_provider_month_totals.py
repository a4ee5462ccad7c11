"""Cost-data trust for collected accounts (#21 D): collecting an AWS account (the connector, boto3 → moto's
Cost Explorer; the cost and provider-total steps of ``collect_account``) records the provider's own monthly totals, and the reconciliation compares them like
with like; the organisation's trust settings change the verdict; a missing first day of a closed month is
named.

One moto server and one collection for the module (September: every day, totals agree; October: the 31st
is missing from the daily answer while the provider's month total has it; November: still running)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from cloudoptima.clouds.aws.cost_cache import CostQueryCache
from cloudoptima.clouds.aws.provider import AwsProvider
from cloudoptima.clouds.month_totals import MonthTotal
from cloudoptima.domain.organisation_settings import apply_patch
from cloudoptima.services.collection import AccountRef, plan_windows
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.costs import load_costs
from cloudoptima.services.collection.month_totals import closed_months, collect_month_totals
from cloudoptima.services.data_trust.provider_totals import month_totals_of, record_month_totals
from cloudoptima.services.data_trust.service import freshness, period_trust, reconcile_month
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import (
    CloudAccount,
    CostDaily,
    CostRow,
    IngestRun,
    Organization,
    QuarantinedRow,
)
from cloudoptima_evals import live_aws
from tests.services.test_data_trust import AWS_CUR, CUR_ACCOUNT, _cur_rows, _write

TODAY = date(2026, 11, 3)
LATER = datetime(2026, 11, 20, 9, tzinfo=UTC)  # September and October are closed (3 days' restatement)
SEP_DAY, OCT_DAY, NOV_DAY = Decimal("1.1000000001"), Decimal("2.05"), Decimal("3")
OCT_PROVIDER = 31 * OCT_DAY  # the provider's October has the 31st; the daily answer does not


def _day(day: date, amount: Decimal) -> dict[str, Any]:
    metrics = {"Amount": str(amount), "Unit": "USD"}
    return {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Total": {},
        "Groups": [
            {
                "Keys": ["Amazon Elastic Compute Cloud - Compute", "BoxUsage:t3.large"],
                "Metrics": {"UnblendedCost": metrics, "AmortizedCost": metrics, "UsageQuantity": metrics},
            }
        ],
        "Estimated": False,
    }


def _month(
    first: date, end: date, unblended: Decimal, amortised: Decimal, blended: Decimal
) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": first.isoformat(), "End": end.isoformat()},
        "Total": {
            "UnblendedCost": {"Amount": str(unblended), "Unit": "USD"},
            "AmortizedCost": {"Amount": str(amortised), "Unit": "USD"},
            "BlendedCost": {"Amount": str(blended), "Unit": "USD"},
        },
        "Groups": [],
        "Estimated": False,
    }


def _daily_answer() -> dict[str, Any]:
    days: list[dict[str, Any]] = []
    day = date(2026, 9, 1)
    while day < TODAY + timedelta(days=1):
        amount = SEP_DAY if day.month == 9 else OCT_DAY if day.month == 10 else NOV_DAY
        if day != date(2026, 10, 31):
            days.append(_day(day, amount))
        day += timedelta(days=1)
    return {"ResultsByTime": days, "DimensionValueAttributes": []}


@pytest.fixture(scope="module")
def collected(engine: Engine) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """An organisation whose AWS account was collected once, from 2026-09-01 to 2026-11-03."""
    live_aws._answer_cost_forecasts_like_a_new_account()  # moto lacks GetCostForecast
    with live_aws.moto_server() as endpoint:
        monthly = {
            "ResultsByTime": [
                _month(date(2026, 9, 1), date(2026, 10, 1), 30 * SEP_DAY, 30 * SEP_DAY, Decimal("33.5")),
                _month(date(2026, 10, 1), date(2026, 11, 1), OCT_PROVIDER, OCT_PROVIDER, Decimal("64")),
            ],
            "DimensionValueAttributes": [],
        }
        # moto answers queued results in the order distinct queries arrive: the daily window, then the month.
        queued = requests.post(
            f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
            json={"account_id": live_aws.ACCOUNT, "results": [_daily_answer(), monthly]},
            timeout=10,
        )
        assert queued.status_code == 201, queued.text
        org_id, account_id = uuid.uuid4(), uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(
                Organization.__table__.insert().values(
                    id=org_id, name="collected trust", subscription_tier="free", settings={}
                )
            )
            connection.execute(
                CloudAccount.__table__.insert().values(
                    id=account_id,
                    organization_id=org_id,
                    provider="aws",
                    account_identifier=live_aws.ACCOUNT,
                    account_name="moto",
                    credentials_encrypted="unused",
                    settings={},
                    status="active",
                    verification_status="verified",
                )
            )

        provider = AwsProvider(
            {"access_key_id": "AKIAEXAMPLEKEY000001", "secret_access_key": "not-a-secret"},
            {"endpoint_url": endpoint, "regions": [live_aws.REGION], "account_id": live_aws.ACCOUNT},
            clock=lambda: datetime(2026, 11, 3, 12, tzinfo=UTC),
            cost_cache=CostQueryCache(),
        )
        context = CollectionContext(
            engine=engine,
            now=lambda: datetime(2026, 11, 3, 12, tzinfo=UTC),
            publish=None,
            utilisation_window_days=30,
            utilisation_retention_days=90,
        )
        ref = AccountRef(org_id, account_id)
        row = CloudAccount(
            id=account_id, organization_id=org_id, provider="aws", account_identifier=live_aws.ACCOUNT
        )
        # The cost window and then the provider-total step, as collect_account runs them (its inventory of
        # every AWS service is left out: it costs seconds on moto and plays no part here; the wiring is
        # tested over the sandbox in test_collection_account).
        plan = plan_windows(TODAY, None, initial_days=64, restate_days=3, window_days=100)
        assert plan.first_sync and plan.windows == [(date(2026, 9, 1), date(2026, 11, 4))]
        assert load_costs(context, ref, row, provider, *plan.windows[0], None).rows == 63  # all but Oct 31
        recorded = collect_month_totals(
            context, ref, row, provider, plan.start, plan.end, TODAY, first_sync=True
        )
        assert recorded == 2
    yield org_id, account_id
    with engine.begin() as connection:
        for model in (CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _reconcile(engine: Engine, org: uuid.UUID, month: date, now: datetime = LATER) -> Any:
    with Session(engine) as session:
        [item] = reconcile_month(session, org, month, now).accounts
    return item


def _settings(engine: Engine, org: uuid.UUID, patch: dict[str, Any]) -> None:
    with engine.begin() as connection:
        raw = connection.execute(
            text("SELECT settings FROM organizations WHERE id = :o"), {"o": org}
        ).scalar()
        merged, _ = apply_patch(raw, patch)
        connection.execute(
            Organization.__table__.update().where(Organization.id == org).values(settings=merged)
        )


def test_collection_records_the_providers_month_total_and_it_reconciles(
    engine: Engine, collected: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, account = collected
    with engine.connect() as connection:
        recorded = month_totals_of(connection, org, date(2026, 9, 1))
    assert recorded[account].by_currency["USD"]["billed"].total == 30 * SEP_DAY
    september = _reconcile(engine, org, date(2026, 9, 1))
    assert september.origin == "collection" and september.account.cloud_account_id == account
    assert september.our_total == september.provider_total == 30 * SEP_DAY  # exact to the last digit
    assert september.status == "reconciled" and september.delta == 0 and september.findings == []
    assert (
        "UnblendedCost" in september.provider_basis and "MONTHLY UnblendedCost" in september.provider_source
    )
    assert september.comparison.startswith("billed vs billed")
    bases = {b.basis: b for b in september.other_bases}
    assert bases["effective"].provider_total == bases["effective"].our_total == 30 * SEP_DAY
    assert bases["blended"].provider_total == Decimal("33.5") and bases["blended"].our_total is None
    with Session(engine) as session:
        [fresh] = freshness(session, org, LATER).accounts
    assert fresh.origin == "collection" and fresh.basis == "billed" and "UnblendedCost" in fresh.basis_source
    assert fresh.latest_usage_day == TODAY and fresh.restating_days == []  # 3 days before Nov 20 lie after it


def test_a_provider_total_that_differs_is_a_mismatch_with_the_delta_and_the_missing_last_day_is_named(
    engine: Engine, collected: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, _ = collected
    october = _reconcile(engine, org, date(2026, 10, 1))
    assert october.status == "mismatch" and october.provider_total == OCT_PROVIDER
    assert october.our_total == 30 * OCT_DAY and october.delta == -OCT_DAY
    [edge] = october.findings
    assert edge.kind == "missing_edge_day" and edge.days == [date(2026, 10, 31)]
    assert "2026-10-31" in edge.message and "last day of the closed billing month 2026-10" in edge.message
    with Session(engine) as session:
        flagged = period_trust(session, org, date(2026, 10, 29), date(2026, 11, 1), LATER)
    assert "no rows (last days of a closed month)" in " ".join(flagged.reasons[date(2026, 10, 31)])
    assert any("does not match the provider total" in r for r in flagged.reasons[date(2026, 10, 29)])
    # The running month has no provider total yet, and says why.
    november = _reconcile(engine, org, date(2026, 11, 1))
    assert november.status == "provider_total_unavailable" and november.provider_total is None
    assert november.unavailable_reason is not None and "after the month's end" in november.unavailable_reason


def test_the_organisations_trust_settings_change_the_verdict(
    engine: Engine, collected: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, _ = collected
    try:
        _settings(engine, org, {"trust_tolerance_amount": "2.05"})  # |delta| = 2.05: within
        assert _reconcile(engine, org, date(2026, 10, 1)).status == "reconciled"
        _settings(engine, org, {"trust_tolerance_amount": None, "trust_restatement_days": 30})
        october = _reconcile(engine, org, date(2026, 10, 1))  # Oct 1 + 30 days > Nov 20: still restated
        assert october.status == "mismatch"  # a mismatch stays one, the month is simply not closed
        assert not october.month_closed and october.findings == []  # edges are named only once closed
        _settings(engine, org, {"trust_tolerance_percent": "5", "trust_restatement_days": 30})
        assert _reconcile(engine, org, date(2026, 10, 1)).status == "restating"
    finally:
        _settings(
            engine,
            org,
            {"trust_tolerance_amount": None, "trust_tolerance_percent": None, "trust_restatement_days": None},
        )
    assert _reconcile(engine, org, date(2026, 10, 1)).status == "mismatch"


def test_unavailable_totals_keep_their_reason_and_only_closed_months_are_asked(
    engine: Engine, collected: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, account = collected
    assert closed_months(date(2026, 9, 15), date(2026, 11, 4), TODAY) == [date(2026, 9, 1), date(2026, 10, 1)]
    # A first sync from mid-September never collected its first days: only October can be compared.
    assert closed_months(date(2026, 9, 15), date(2026, 11, 4), TODAY, first_sync=True) == [date(2026, 10, 1)]
    assert closed_months(date(2026, 9, 1), date(2026, 11, 4), TODAY, first_sync=True) == [
        date(2026, 9, 1),
        date(2026, 10, 1),
    ]
    with engine.begin() as connection:
        record_month_totals(
            connection,
            organization_id=org,
            cloud_account_id=account,
            provider="aws",
            account_identifier=live_aws.ACCOUNT,
            months=[date(2026, 8, 1), date(2026, 9, 1)],
            totals=[
                MonthTotal(
                    month=date(2026, 9, 1),
                    basis="billed",
                    currency="EUR",
                    total=Decimal(1),
                    source="test",
                )
            ],
            reason="permission ce:GetCostAndUsage denied",
            recorded_at=LATER,
        )
        recorded = month_totals_of(connection, org, date(2026, 8, 1))
    assert recorded[account].reason == "permission ce:GetCostAndUsage denied"
    september = _reconcile(engine, org, date(2026, 9, 1))
    assert september.status == "provider_total_unavailable"
    assert september.unavailable_reason == "the provider's monthly total is in EUR, not USD"


def test_a_missing_first_day_of_a_closed_month_is_named(engine: Engine, tmp_path: Path) -> None:
    header, rows = _cur_rows()
    kept = [r for r in rows if not r["lineItem/UsageStartDate"].startswith("2023-11-01")]
    assert len(kept) < len(rows)
    org = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(id=org, name="edge", subscription_tier="free", settings={})
        )
    try:
        ingest_path(engine, _write(tmp_path / "cur_without_1st.csv", header, kept), org)
        item = _reconcile(engine, org, date(2023, 11, 1), datetime(2025, 1, 1, tzinfo=UTC))
        first = [f for f in item.findings if f.kind == "missing_edge_day" and f.day == date(2023, 11, 1)]
        assert [f.days for f in first] == [[date(2023, 11, 1)]]
        assert "2023-11-01" in first[0].message and "first day" in first[0].message
        assert CUR_ACCOUNT in first[0].message and item.status == "reconciled"  # the file lacks it too
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM ingest_file_totals WHERE organization_id = :o"), {"o": org})
            for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
                connection.execute(delete(model).where(model.organization_id == org))
            connection.execute(delete(Organization).where(Organization.id == org))
    assert AWS_CUR.exists()
