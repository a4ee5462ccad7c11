"""The budgets report from real budgets and rollup rows: its spend, forecast and status equal the budget
service's (what ``GET /v1/budgets`` answers), its burn-down adds up, it changes no alert state, it renders in
every format, and inputs that do not tell one story are refused naming the field."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from cloudoptima.domain.budgets import AlertThreshold, BudgetPeriod, BudgetScope, BudgetSpec, ScopeType
from cloudoptima.reports.document import BurnDownChart, ReportDocument
from cloudoptima.reports.renderers import FORMATS, render
from cloudoptima.reports.templates.budgets import BudgetLine, BudgetsReportInput, FiredAlert
from cloudoptima.reports.templates.spend import DailySpend
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.report_catalog import build_report
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.storage.models import Budget
from tests.reports.cost_seeding import add_costs, make_organisation, remove_organisation, two_months

D = Decimal
START, END = date(2026, 11, 1), date(2026, 12, 1)
AT = datetime(2026, 12, 3, 6, tzinfo=UTC)
FIRED_AT = datetime(2026, 11, 20, 6, tzinfo=UTC)
PERIOD = {"start_date": "2026-11-01", "end_date": "2026-12-01"}


def _spec(name: str, amount: str, scope: BudgetScope, **changes: object) -> BudgetSpec:
    fields: dict[str, object] = {
        "name": name,
        "amount": D(amount),
        "start_date": date(2026, 1, 1),
        "end_date": date(2027, 1, 1),
        "scope": scope,
    }
    fields.update(changes)
    return BudgetSpec.model_validate(fields)


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id, _name = make_organisation(engine)
    add_costs(engine, org_id, two_months(date(2026, 9, 1), START, END))
    with Session(engine) as session:
        service = BudgetService(session, org_id, now=lambda: FIRED_AT, forecast_model="fast")
        everything = service.create(
            _spec("All accounts", "300", BudgetScope(), alerts=[AlertThreshold(threshold=D("50"))])
        )
        service.create(_spec("Web team", "1000", BudgetScope(type=ScopeType.TEAM, values=["web"])))
        service.create(
            _spec(
                "Storage",
                "10",
                BudgetScope(type=ScopeType.SERVICE, values=["AmazonS3"]),
                period=BudgetPeriod.QUARTERLY,
            )
        )
        # ended before the report period: not shown
        service.create(_spec("Old", "5", BudgetScope(), end_date=date(2026, 10, 1)))
        session.flush()
        # a real evaluation on 20 November fires the 50 % threshold (spend of 1–19 November > 150)
        assert [a.threshold for a in service.evaluate(everything.id, date(2026, 11, 20)).fired] == [D("50")]
        session.commit()
    yield org_id
    with Session(engine) as session:
        session.execute(delete(Budget).where(Budget.organization_id == org_id))
        session.commit()
    remove_organisation(engine, org_id)


def _table(document: ReportDocument, section: str, table: str) -> list[list[object]]:
    found = next(s for s in document.sections if s.id == section)
    return next(t for t in found.tables if t.id == table).rows


def test_finished_period_equals_the_budget_service_and_the_cost_api(engine: Engine, org: uuid.UUID) -> None:
    with engine.connect() as connection:
        document = build_report(connection, org, "budgets", PERIOD, AT)
        november = CostAnalytics.for_organisation(connection, org)
        total = november.overview(START, END).total_cost
        web = {
            d.key: d.current
            for d in november.compare(START, END, date(2026, 10, 2), group_by="tag:team").drivers
        }
    rows = {str(row[0]): row for row in _table(document, "overview", "budgets")}
    assert set(rows) == {"All accounts", "Web team", "Storage"}
    cent = D("0.01")
    everything = rows["All accounts"]
    assert everything[1:5] == ["all accounts", "monthly", START, date(2026, 11, 30)]
    assert everything[5:7] == [D("300"), total.quantize(cent)]
    # a finished period: nothing left to forecast, the forecast is the spend
    assert everything[8] == everything[6] and everything[10] == "over"
    assert rows["Web team"][6] == web["web"].quantize(cent) and rows["Web team"][10] == "ok"
    # the quarter began on 1 October: S3 cost 0.10 on each of October's 31 days, 0.20 in November
    storage = rows["Storage"]
    assert storage[3:7] == [date(2026, 10, 1), date(2026, 11, 30), D("10"), D("9.10")]
    assert storage[7] == D("91.00")

    with Session(engine) as session:
        service = BudgetService(session, org, now=lambda: AT, forecast_model="fast")
        by_name = {b.name: b for b in service.list()}
        for name, row in rows.items():
            evaluation = service.assess(by_name[name], date(2026, 11, 30), END)
            assert row[6:11] == [
                evaluation.current_spend,
                evaluation.utilization_percent,
                evaluation.forecasted_spend,
                evaluation.forecast_utilization_percent,
                {"on_track": "ok", "at_risk": "at risk", "exceeded": "over"}[evaluation.status.value],
            ], name

    charts = {c.title.split(":")[0]: c for c in document.sections[1].charts}
    burn = charts["All accounts"]
    assert isinstance(burn, BurnDownChart)
    assert burn.limit == D("300") and [p.date for p in burn.points][0::29] == [START, date(2026, 11, 30)]
    assert burn.points[-1].cumulative_actual == total
    # the quarter's burn-down starts in the report period, counting October's spend
    assert charts["Storage"].points[0].cumulative_actual == D("3.10") + D("0.20")  # type: ignore[union-attr]

    assert _table(document, "alerts", "alerts") == [
        ["All accounts", "actual", D("50"), D("150.00"), date(2026, 11, 20), "06:00:00"]
    ]
    highlights = {h.label: h.value for h in document.highlights}
    assert highlights["Over budget"] == 1 and highlights["Total limit"] == D("1310")
    assert highlights["Total spent"] == sum(row[6] for row in rows.values())  # type: ignore[misc]


def test_running_period_is_the_apis_evaluation_of_today_and_stores_nothing(
    engine: Engine, org: uuid.UUID
) -> None:
    today = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with Session(engine) as session:
        states = {
            b.name: b.alert_state
            for b in session.scalars(select(Budget).where(Budget.organization_id == org))
        }
    with engine.connect() as connection:
        document = build_report(connection, org, "budgets", PERIOD, today)
    rows = {str(row[0]): row for row in _table(document, "overview", "budgets")}
    with Session(engine) as session:
        after = {
            b.name: b.alert_state
            for b in session.scalars(select(Budget).where(Budget.organization_id == org))
        }
        assert after == states
        service = BudgetService(session, org, now=lambda: today, forecast_model="fast")
        for budget in service.list():
            if budget.name == "Old":
                continue
            evaluation = service.evaluate(budget.id, today.date())
            assert rows[budget.name][6] == evaluation.current_spend
            assert rows[budget.name][8] == evaluation.forecasted_spend
            assert evaluation.forecast_available
        session.rollback()
    assert rows["All accounts"][4] == date(2026, 11, 19)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(engine: Engine, org: uuid.UUID, fmt: str) -> None:
    with engine.connect() as connection:
        document = build_report(connection, org, "budgets", PERIOD, AT)
    out = io.BytesIO()
    assert render(document, fmt, out) == len(out.getvalue()) > 0


def test_bad_parameters_are_named(engine: Engine, org: uuid.UUID) -> None:
    with engine.connect() as connection:
        with pytest.raises(ReportInputError, match=r"^parameters\.start_date: "):
            build_report(
                connection, org, "budgets", {"start_date": "2026-12-05", "end_date": "2027-01-01"}, AT
            )
        with pytest.raises(ReportInputError, match=r"^parameters\.currency: no budget in EUR"):
            build_report(connection, org, "budgets", {**PERIOD, "currency": "EUR"}, AT)


def _line(**changes: object) -> BudgetLine:
    fields: dict[str, object] = {
        "name": "B",
        "scope": "all accounts",
        "period": "monthly",
        "period_start": START,
        "period_end": END,
        "as_of": END,
        "limit": D("100"),
        "spent": D("60.00"),  # 60.005 rounded half-even, as the budget service rounds
        "forecast": D("120"),
        "status": "at risk",
        "daily": [DailySpend(date=START, cost=D("50")), DailySpend(date=date(2026, 11, 2), cost=D("10.005"))],
    }
    fields.update(changes)
    return BudgetLine.model_validate(fields)


def _report(**changes: object) -> BudgetsReportInput:
    fields: dict[str, object] = {
        "organisation_name": "Acme",
        "currency": "USD",
        "start_date": START,
        "end_date": END,
        "generated_at": AT,
        "budgets": [_line()],
        "alerts": [FiredAlert(budget="B", type="forecasted", threshold=D("100"), fired_at=FIRED_AT)],
    }
    fields.update(changes)
    return BudgetsReportInput.model_validate(fields)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"spent": D("60.01")}, "spent: 60.01 but the daily spend sums to 60.00"),
        ({"status": "ok"}, "status: 'ok' but the numbers give 'at risk'"),
        ({"forecast": D("59")}, "forecast: 59 is below the spend"),
        ({"forecast": None}, "status: 'at risk' but the numbers give 'ok'"),
        ({"as_of": START}, "as_of 2026-11-01 must lie in"),
        ({"daily": [DailySpend(date=END, cost=D("60.00"))]}, "daily: 2026-12-01 is outside"),
    ],
)
def test_a_budget_line_that_does_not_add_up_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _line(**changes)


def test_a_report_that_does_not_tell_one_story_is_refused() -> None:
    late = FiredAlert(
        budget="B", type="actual", threshold=D("50"), fired_at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    with pytest.raises(ValidationError, match=r"alerts: 'B' fired on 2026-12-01, outside"):
        _report(alerts=[late])
    with pytest.raises(ValidationError, match=r"alerts: 'C' is not a budget of the report"):
        _report(alerts=[FiredAlert(budget="C", type="actual", threshold=D("50"), fired_at=FIRED_AT)])
    earlier = _line(
        period_start=date(2026, 9, 1),
        period_end=date(2026, 10, 1),
        as_of=date(2026, 10, 1),
        daily=[],
        spent=D("0.00"),
        forecast=None,
        status="ok",
    )
    with pytest.raises(ValidationError, match=r"budgets: 'B' counts \[2026-09-01, 2026-10-01\), outside"):
        _report(budgets=[earlier], alerts=[])


def test_the_pure_template_totals_and_highlights() -> None:
    from cloudoptima.reports.templates.budgets import build_budgets_report

    document = build_budgets_report(_report())
    table = document.sections[0].tables[0]
    assert table.rows[0][5:] == [D("100"), D("60.00"), D("60.00"), D("120"), D("120.00"), "at risk"]
    assert table.totals_row()[5:9] == [D("100"), D("60.00"), None, None]
    chart = document.sections[1].charts[0]
    assert isinstance(chart, BurnDownChart)
    assert [p.cumulative_actual for p in chart.points][:3] == [D("50"), D("60.005"), D("60.005")]
    assert len(chart.points) == 30
    highlights = {h.label: h.value for h in document.highlights}
    assert highlights["At risk"] == 1 and highlights["Spent of limit %"] == D("60.00")
    assert document.sections[2].tables[0].rows == [
        ["B", "forecasted", D("100"), D("100.00"), date(2026, 11, 20), "06:00:00"]
    ]
