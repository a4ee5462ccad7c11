"""The savings report's ``realised`` section: the period's applied recommendations measured from seeded cost rows
whose saving is known by hand (2.00/day → 0.50/day and 1.00/day → nothing, × 30.4375), per month and type,
a change still being measured, and inputs that do not tell one story refused naming the field."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cloudoptima.reports.templates.savings import AppliedLine, RealisedLine, SavingsInput
from cloudoptima.services.report_catalog import build_report
from cloudoptima.storage.models import CostDaily, CostRow, Organization, Recommendation
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between

D = Decimal
AT = datetime(2026, 12, 2, 6, tzinfo=UTC)  # the report covers November 2026


def _row(org: uuid.UUID, day: date, rid: str, cost: str) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(day.year, day.month, 1, tzinfo=UTC),
        billing_period_end=datetime(day.year + day.month // 12, day.month % 12 + 1, 1, tzinfo=UTC),
        billed_cost=D(cost), effective_cost=D(cost), billing_account_id="111", sub_account_id="111",
        billing_currency="EUR", charge_category="Usage", service_name="EC2", region_id="eu-west-1",
        resource_id=rid, resource_name=rid, tags={},
    )  # fmt: skip


def _costs(org: uuid.UUID, first: date, rid: str, amounts: list[str]) -> list[CostRow]:
    return [_row(org, first + timedelta(days=i), rid, a) for i, a in enumerate(amounts) if a]


def _rec(org: uuid.UUID, rid: str, rule: str, estimate: str, applied: datetime) -> Recommendation:
    return Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, provider="aws", title=f"Act on {rid}", rule_id=rule,
        category="compute", risk_level="low", confidence=D("0.9"), resource_ids=[rid],
        affected_resources=[{"id": rid, "name": rid}], actions=[], status="completed",
        estimated_savings_monthly=D(estimate), estimated_savings_annual=D(estimate) * 12, applied_at=applied,
    )  # fmt: skip


@pytest.fixture
def org(db_session: Session) -> uuid.UUID:
    ensure_cost_partitions(db_session.connection(), months_between(date(2026, 10, 1), date(2026, 12, 1)))
    orgs = []
    for _ in range(2):
        row = Organization(
            name=f"realised-{uuid.uuid4().hex[:8]}", subscription_tier="enterprise", settings={}
        )
        db_session.add(row)
        db_session.flush()
        db_session.add(
            CostDaily(
                organization_id=row.id, usage_date=date(2026, 11, 5), provider="aws", sub_account_id="111",
                service_name="EC2", region_id="eu-west-1", billing_currency="EUR", tag_values={},
                billed_cost=D(1), effective_cost=D(1), list_cost=D(1), row_count=1,
            )
        )  # fmt: skip
        orgs.append(row.id)
    org, other = orgs
    oct25 = date(2026, 10, 25)
    rows = _costs(org, oct25, "i-a", ["2.00"] * 7 + ["1.00"] + ["0.50"] * 7)  # change 11-01: 1.50/day
    rows += _costs(org, date(2026, 10, 27), "i-b", ["1.00"] * 7)  # change 11-03, then nothing: 1.00/day
    rows += _costs(org, date(2026, 11, 15), "i-z", ["3.00"])  # the bill reaches 11-15
    rows += _costs(other, oct25, "i-a", ["99.00"] * 15)  # another organisation's same id is never read
    db_session.add_all(rows)
    db_session.add_all(
        [
            _rec(org, "i-a", "idle_vm", "30.10", datetime(2026, 11, 1, tzinfo=UTC)),
            _rec(org, "i-b", "idle_vm", "10.00", datetime(2026, 11, 3, 12, tzinfo=UTC)),
            _rec(org, "i-c", "rightsize_vm", "5.00", datetime(2026, 11, 30, 23, tzinfo=UTC)),  # measuring
            _rec(other, "i-a", "idle_vm", "999.00", datetime(2026, 11, 1, tzinfo=UTC)),
        ]
    )
    db_session.flush()
    return org


def test_the_realised_section_is_what_the_bill_measured(db_session: Session, org: uuid.UUID) -> None:
    doc = build_report(db_session.connection(), org, "savings", {}, AT)
    section = next(s for s in doc.sections if s.id == "realised")
    table = section.tables[0]
    # 1.50 × 30.4375 = 45.66 and 1.00 × 30.4375 = 30.44, worked out by hand; (76.10 − 40.10) / 40.10 = 89.78 %
    assert table.rows == [
        ["2026-11", "idle_vm", 2, 2, D("40.10"), D("76.10"), D("89.78")],
        ["2026-11", "rightsize_vm", 1, 0, D("0"), D("0"), None],
    ]
    assert table.totals_row()[:6] == ["Total", None, 3, 2, D("40.10"), D("76.10")]
    assert "7-day" in table.title


def test_realised_lines_that_do_not_tell_one_story_are_refused() -> None:
    applied = AppliedLine(
        title="t", resource="r", type="idle_vm", risk_level="low", estimated_savings_monthly=D(1),
        applied_on=date(2026, 11, 2),
    )  # fmt: skip
    base = {
        "organisation_name": "o", "currency": "EUR", "start_date": date(2026, 11, 1),
        "end_date": date(2026, 12, 1), "generated_at": AT, "open": [], "open_savings_monthly": D(0),
        "scheduled_count": 0, "in_progress_count": 0, "applied": [applied], "applied_savings_monthly": D(1),
        "dismissed_count": 0,
    }  # fmt: skip

    def line(completed: int, measured: int) -> RealisedLine:
        return RealisedLine(
            month="2026-11", type="idle_vm", completed=completed, measured=measured,
            estimated_savings_monthly=D(1), realised_savings_monthly=D(1),
        )  # fmt: skip

    assert SavingsInput.model_validate(base | {"realised": [line(1, 1)]}).realised[0].measured == 1
    with pytest.raises(ValidationError, match=r"realised\[1\]\.measured"):
        SavingsInput.model_validate(base | {"realised": [line(1, 2)]})
    with pytest.raises(ValidationError, match="realised: the lines count 2"):
        SavingsInput.model_validate(base | {"realised": [line(2, 0)]})
