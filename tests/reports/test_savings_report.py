"""The savings report from real recommendation rows: open, applied and dismissed equal what the recommendation
service (``GET /v1/recommendations``) answers, to the cent; every format renders; inputs that do not tell one
story are refused naming the field."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.reports.document import BarChart, ReportDocument, Table
from cloudoptima.reports.renderers import FORMATS, render
from cloudoptima.reports.templates.savings import AppliedLine, RecommendationLine, SavingsInput, build_savings
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.report_catalog import build_report
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.storage.models import CostDaily, Organization, Recommendation

D = Decimal
START, END = date(2026, 11, 1), date(2026, 12, 1)
AT = datetime(2026, 12, 2, 6, tzinfo=UTC)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _rec(
    org: uuid.UUID,
    n: int,
    status: str,
    rule: str,
    risk: str,
    savings: str | None,
    *,
    applied_at: datetime | None = None,
    dismissed_at: datetime | None = None,
    resources: int = 1,
) -> Recommendation:
    ids = [f"i-{n:04d}{k}" for k in range(resources)]
    return Recommendation(
        organization_id=org,
        fingerprint=f"fp-{n}",
        rule_id=rule,
        title=f"Recommendation {n}",
        category="compute",
        risk_level=risk,
        confidence=D("0.875"),
        priority=D(n),
        estimated_savings_monthly=None if savings is None else D(savings),
        estimated_savings_annual=None if savings is None else D(savings) * 12,
        resource_ids=ids,
        affected_resources=[{"id": i, "name": f"web-{n}", "current_cost": "1"} for i in ids],
        actions=[],
        status=status,
        created_at=_at(date(2026, 10, 1)),
        applied_at=applied_at,
        dismissed_at=dismissed_at,
    )


def _organisation(session: Session, currencies: tuple[str, ...] = ("EUR",)) -> uuid.UUID:
    org = Organization(name=f"savings-{uuid.uuid4().hex[:8]}", subscription_tier="enterprise", settings={})
    session.add(org)
    session.flush()
    for currency in currencies:
        session.add(
            CostDaily(
                organization_id=org.id, usage_date=date(2026, 11, 5), provider="aws", sub_account_id="1",
                service_name="AmazonEC2", region_id="us-east-1", billing_currency=currency, tag_values={},
                billed_cost=D(1), effective_cost=D(1), list_cost=D(1), row_count=1,
            )
        )  # fmt: skip
    session.flush()
    return org.id


@pytest.fixture
def org(db_session: Session) -> uuid.UUID:
    org = _organisation(db_session)
    active = RecommendationStatus.ACTIVE.value
    rows = [
        _rec(org, 1, active, "idle_vm", "low", "100.10", resources=3),
        _rec(org, 2, active, "idle_vm", "medium", "0.20"),
        _rec(org, 3, active, "rightsize_vm", "high", "50.15"),
        _rec(org, 4, active, "unattached_disk", "low", None),  # no estimate: counted, not summed
        _rec(org, 5, RecommendationStatus.SCHEDULED.value, "idle_vm", "low", "7"),
        _rec(org, 6, RecommendationStatus.APPLIED.value, "idle_vm", "low", "8"),
        _rec(org, 7, "completed", "idle_vm", "low", "30.10", applied_at=_at(START, 0)),
        _rec(org, 8, "completed", "rightsize_vm", "medium", "0.10", applied_at=_at(date(2026, 11, 30), 23)),
        _rec(org, 9, "completed", "idle_vm", "low", "999", applied_at=_at(END, 0)),  # after the period
        _rec(org, 10, "completed", "idle_vm", "low", "999", applied_at=_at(date(2026, 10, 31), 23)),  # before
        _rec(org, 11, "dismissed", "idle_vm", "low", "5", dismissed_at=_at(date(2026, 11, 10))),
        _rec(org, 12, "dismissed", "idle_vm", "low", "5", dismissed_at=_at(date(2026, 10, 10))),  # before
        _rec(org, 13, "expired", "idle_vm", "low", "999"),
        _rec(org, 15, "accepted", "idle_vm", "low", "12.00"),  # due before AT: overdue
        _rec(org, 16, "accepted", "rightsize_vm", "low", "3.05"),  # due after AT
    ]
    rows[-2].due_date, rows[-1].due_date = date(2026, 12, 1), date(2026, 12, 2)
    other = _organisation(db_session)  # another organisation's open recommendation is never counted
    db_session.add_all([*rows, _rec(other, 14, active, "idle_vm", "low", "999")])
    db_session.flush()
    return org


def _table(doc: ReportDocument, table_id: str) -> Table:
    return next(t for s in doc.sections for t in s.tables if t.id == table_id)


def test_the_report_equals_what_the_recommendation_service_answers(
    db_session: Session, org: uuid.UUID
) -> None:
    doc = build_report(db_session.connection(), org, "savings", {"top_n": 2}, AT)
    assert (doc.start_date, doc.end_date, doc.currency) == (
        START,
        END,
        "EUR",
    )  # last full month; the costs' currency

    service = RecommendationService(db_session, org, price_catalog_for(db_session, org))
    listed = service.list(status=RecommendationStatus.ACTIVE, limit=500)
    api_open = sum((r.estimated_savings_monthly or D(0) for r in listed), D(0))
    assert api_open == D("150.45")  # 100.10 + 0.20 + 50.15, worked out by hand
    highlights = {h.label: h.value for h in doc.highlights}
    assert highlights == {
        "Open savings / month (estimated)": api_open,
        "Open recommendations": len(listed),
        "Applied in the period": 2,
        "Applied savings / month (estimated, not realised)": D("30.20"),
    }
    assert _table(doc, "status").rows == [
        ["Open now", 4, D("150.45")],
        ["Accepted now (owned; 1 overdue)", 2, D("15.05")],
        ["Scheduled now", 1, None],
        ["Being applied now", 1, None],
        ["Applied in the period (estimate, not realised)", 2, D("30.20")],
        ["Dismissed in the period", 1, None],
    ]
    by_type = _table(doc, "open_by_type")
    assert by_type.rows == [
        ["idle_vm", 2, D("100.30"), D("66.67")],
        ["rightsize_vm", 1, D("50.15"), D("33.33")],
        ["unattached_disk", 1, D("0"), D("0.00")],
    ]
    assert by_type.totals_row() == ["Total", 4, api_open, None]
    assert _table(doc, "open_by_risk").rows == [
        ["low", 2, D("100.10")],
        ["medium", 1, D("0.20")],
        ["high", 1, D("50.15")],
    ]
    assert _table(doc, "top_open").rows == [
        ["Recommendation 1", "web-1 (i-00010) +2 more", "idle_vm", "low", D("100.10"), D("87.50")],
        ["Recommendation 3", "web-3 (i-00030)", "rightsize_vm", "high", D("50.15"), D("87.50")],
    ]
    applied = _table(doc, "applied")
    assert [row[:2] for row in applied.rows] == [
        [START, "Recommendation 7"],
        [date(2026, 11, 30), "Recommendation 8"],
    ]
    assert applied.totals_row()[5] == D("30.20")
    chart = doc.sections[0].charts[0]
    assert isinstance(chart, BarChart)
    assert [(i.label, i.value) for i in chart.items] == [
        ("idle_vm", D("100.30")),
        ("rightsize_vm", D("50.15")),
    ]
    assert "estimated" in next(s.title for s in doc.sections if s.id == "applied")
    realised = _table(doc, "realised")  # no cost rows for the applied resources: nothing measured
    assert realised.rows == [
        ["2026-11", "idle_vm", 1, 0, D(0), D(0), None],
        ["2026-11", "rightsize_vm", 1, 0, D(0), D(0), None],
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(db_session: Session, org: uuid.UUID, fmt: str) -> None:
    doc = build_report(db_session.connection(), org, "savings", {}, AT)
    stream = io.BytesIO()
    assert render(doc, fmt, stream) == len(stream.getvalue()) > 0


def test_an_organisation_without_recommendations_gets_an_empty_report(db_session: Session) -> None:
    org = _organisation(db_session, currencies=())
    doc = build_report(db_session.connection(), org, "savings", {}, AT)
    assert doc.currency == "USD"
    assert {h.label: h.value for h in doc.highlights}["Open savings / month (estimated)"] == D(0)
    assert not doc.sections[0].charts
    for fmt in FORMATS:
        render(doc, fmt, io.BytesIO())


def test_several_currencies_are_refused_naming_the_field(db_session: Session) -> None:
    org = _organisation(db_session, currencies=("EUR", "USD"))
    with pytest.raises(ReportInputError, match=r"^currency: .*EUR, USD"):
        build_report(db_session.connection(), org, "savings", {}, AT)


def test_bad_parameters_are_refused_naming_the_field(db_session: Session, org: uuid.UUID) -> None:
    with pytest.raises(ReportInputError, match=r"^parameters\.top_n"):
        build_report(db_session.connection(), org, "savings", {"top_n": 0}, AT)
    with pytest.raises(ReportInputError, match=r"^parameters\.currency"):
        build_report(db_session.connection(), org, "savings", {"currency": "EUR"}, AT)


# ---- the pure template ----------------------------------------------------------------------------------
def _line(savings: str | None, **extra: object) -> dict[str, object]:
    return {"title": "t", "resource": "r", "type": "idle_vm", "risk_level": "low",
            "estimated_savings_monthly": None if savings is None else D(savings)} | extra  # fmt: skip


def _input(**changes: object) -> SavingsInput:
    fields: dict[str, object] = {
        "organisation_name": "Acme",
        "currency": "EUR",
        "start_date": START,
        "end_date": END,
        "generated_at": AT,
        "open": [
            RecommendationLine.model_validate(_line("0.10")),
            RecommendationLine.model_validate(_line("0.20")),
        ],
        "open_savings_monthly": D("0.30"),
        "scheduled_count": 0,
        "in_progress_count": 0,
        "applied": [AppliedLine.model_validate(_line("1", applied_on=START))],
        "applied_savings_monthly": D("1"),
        "dismissed_count": 0,
    }
    return SavingsInput.model_validate(fields | changes)


def test_the_pure_template_sums_exactly() -> None:
    doc = build_savings(_input())
    assert {h.label: h.value for h in doc.highlights}["Open savings / month (estimated)"] == D("0.30")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"open_savings_monthly": D("0.3000001")}, "open_savings_monthly"),
        ({"applied_savings_monthly": D("2")}, "applied_savings_monthly"),
        ({"applied": [AppliedLine.model_validate(_line("1", applied_on=END))]}, r"applied\[1\]\.applied_on"),
        ({"end_date": START}, "period"),
        ({"dismissed_count": -1}, "dismissed_count"),
    ],
)
def test_inputs_that_do_not_tell_one_story_are_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        _input(**changes)


def test_a_confidence_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValidationError, match="confidence"):
        RecommendationLine.model_validate(_line("1", confidence=D("1.5")))
