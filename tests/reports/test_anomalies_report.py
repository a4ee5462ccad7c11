"""The anomalies report from incidents the detector really stored: every incident of the period, its amounts
and root cause equal what the anomaly service (``GET /v1/costs/anomalies``) answers, to the cent; every format
renders; inputs that do not tell one story are refused naming the field."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cloudoptima.reports.document import BarChart, ReportDocument, Table
from cloudoptima.reports.renderers import FORMATS, render
from cloudoptima.reports.templates.anomalies import AnomaliesInput, AnomalyLine, build_anomalies
from cloudoptima.services.anomalies import AnomalyService, AnomalyStatus, Drivers
from cloudoptima.services.anomaly_drivers import Driver
from cloudoptima.services.report_catalog import build_report
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.report_inputs_anomalies import top_driver
from cloudoptima.storage.models import Anomaly, CostDaily, Organization

D = Decimal
DATA_START = date(2025, 9, 1)
SPIKE = date(2025, 11, 20)
START, END = date(2025, 11, 1), date(2025, 12, 1)
AT = datetime(2025, 12, 10, tzinfo=UTC)


def _organisation(session: Session) -> uuid.UUID:
    org = Organization(name=f"anomalies-{uuid.uuid4().hex[:8]}", subscription_tier="enterprise", settings={})
    session.add(org)
    session.flush()
    return org.id


def _cost(
    org: uuid.UUID, day: date, account: str, service: str, region: str, cost: Decimal, currency: str = "USD"
) -> CostDaily:
    return CostDaily(
        organization_id=org, usage_date=day, provider="aws", sub_account_id=account, service_name=service,
        region_id=region, billing_currency=currency, tag_values={}, billed_cost=cost, effective_cost=cost,
        list_cost=cost, row_count=1,
    )  # fmt: skip


@pytest.fixture
def org(db_session: Session) -> uuid.UUID:
    """100 days of steady spend with a two-day SageMaker spike in account acct-b, detected and stored."""
    org = _organisation(db_session)
    for n in range(100):
        day = DATA_START + timedelta(days=n)
        weekday = D("1.0") if day.weekday() < 5 else D("0.7")
        rows = [
            ("acct-a", "Amazon EC2", "us-east-1", D(100) * weekday + D(n % 3)),
            ("acct-a", "Amazon S3", "us-east-1", D(30) + D(n % 2)),
            ("acct-b", "Amazon RDS", "eu-west-1", D(60) * weekday),
        ]
        if SPIKE <= day < SPIKE + timedelta(days=2):
            rows.append(("acct-b", "Amazon SageMaker", "eu-west-1", D(400)))
        db_session.add_all([_cost(org, day, *row) for row in rows])
    db_session.flush()
    AnomalyService(db_session, org, now=lambda: AT).run(DATA_START, DATA_START + timedelta(days=100))
    return org


def _table(doc: ReportDocument, table_id: str) -> Table:
    return next(t for s in doc.sections for t in s.tables if t.id == table_id)


def test_the_report_equals_what_the_anomaly_service_answers(db_session: Session, org: uuid.UUID) -> None:
    service = AnomalyService(db_session, org, now=lambda: AT)
    spike = next(r for r in service.list() if r.start_date == SPIKE)
    service.set_status(spike.id, AnomalyStatus.IGNORED, "planned training run")  # a user's status shows
    doc = build_report(
        db_session.connection(), org, "anomalies", {"start_date": "2025-11-01", "end_date": "2025-12-01"}, AT
    )
    assert doc.currency == "USD"

    # what GET /v1/costs/anomalies?start_date=2025-11-01&end_date=2025-12-01 lists
    api = [r for r in service.list(limit=5000) if r.start_date is not None and START <= r.start_date < END]
    assert api, "the spike was detected"
    table = _table(doc, "anomalies")
    assert len(table.rows) == len(api)
    expected = {
        (r.start_date, r.service_name, r.expected_spend, r.actual_spend, r.impact_amount, r.status)
        for r in api
    }
    assert {(row[0], row[3], row[6], row[7], row[8], row[9]) for row in table.rows} == expected
    total = sum((r.impact_amount or D(0) for r in api), D(0))
    assert table.totals_row()[8] == total
    highlights = {h.label: h.value for h in doc.highlights}
    assert (highlights["Anomalies"], highlights["Total impact"]) == (len(api), total)

    # the spike: its stored root cause, top cause and its contribution, the stored explanation
    row = next(r for r in table.rows if r[0] == SPIKE)
    assert row[9] == "ignored" and row[8] == spike.impact_amount and spike.impact_amount > D(700)
    cause = next(r for r in _table(doc, "root_causes").rows if r[0] == SPIKE)
    assert spike.contributions is not None
    assert cause[3] == "account acct-b, service Amazon SageMaker, region eu-west-1"
    assert cause[4] == D(spike.contributions[0]["contribution"])
    explanation = next(r for r in _table(doc, "explanations").rows if r[0] == SPIKE)
    assert explanation[2] == spike.root_cause

    by_severity = _table(doc, "by_severity")
    assert sum(r[1] for r in by_severity.rows) == len(api)
    assert by_severity.totals_row()[2] == total
    chart = doc.sections[0].charts[0]
    assert isinstance(chart, BarChart)
    assert sum(i.value for i in chart.items) == total  # every service fits in the default top 10


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(db_session: Session, org: uuid.UUID, fmt: str) -> None:
    doc = build_report(
        db_session.connection(), org, "anomalies", {"start_date": "2025-11-01", "end_date": "2025-12-01"}, AT
    )
    stream = io.BytesIO()
    assert render(doc, fmt, stream) == len(stream.getvalue()) > 0


def test_a_period_without_anomalies_is_an_empty_report(db_session: Session, org: uuid.UUID) -> None:
    doc = build_report(db_session.connection(), org, "anomalies", {}, datetime(2030, 2, 1, tzinfo=UTC))
    assert {h.label: h.value for h in doc.highlights}["Anomalies"] == 0
    assert _table(doc, "anomalies").rows == [] and not doc.sections[0].charts
    for fmt in FORMATS:
        render(doc, fmt, io.BytesIO())


def test_several_currencies_are_refused_naming_the_field(db_session: Session) -> None:
    org = _organisation(db_session)
    db_session.add_all([_cost(org, START, "a", "s", "r", D(1), c) for c in ("EUR", "USD")])
    db_session.flush()
    with pytest.raises(ReportInputError, match=r"^currency: .*EUR, USD"):
        build_report(db_session.connection(), org, "anomalies", {"start_date": START, "end_date": END}, AT)


# ---- the pure template ----------------------------------------------------------------------------------
def _line(**changes: object) -> AnomalyLine:
    fields: dict[str, object] = {
        "start_date": date(2025, 11, 20), "end_date": date(2025, 11, 21), "scope": "total spend",
        "service": "Amazon SageMaker", "severity": "critical", "expected_spend": D("10.10"),
        "actual_spend": D("810.30"), "impact": D("800.20"), "status": "active",
    }  # fmt: skip
    return AnomalyLine.model_validate(fields | changes)


def _input(**changes: object) -> AnomaliesInput:
    fields: dict[str, object] = {
        "organisation_name": "Acme",
        "currency": "USD",
        "start_date": START,
        "end_date": END,
        "generated_at": AT,
        "anomalies": [_line(), _line(service=None, severity="low", impact=D("0.10"))],
        "total_impact": D("800.30"),
    }
    return AnomaliesInput.model_validate(fields | changes)


def test_the_pure_template_summarises_by_severity_and_service() -> None:
    doc = build_anomalies(_input())
    assert _table(doc, "by_severity").rows == [
        ["critical", 1, D("800.20")],
        ["high", 0, D(0)],
        ["medium", 0, D(0)],
        ["low", 1, D("0.10")],
    ]
    chart = doc.sections[0].charts[0]
    assert isinstance(chart, BarChart)
    assert [(i.label, i.value) for i in chart.items] == [
        ("Amazon SageMaker", D("800.20")),
        ("(all services)", D("0.10")),
    ]
    assert {h.label: h.value for h in doc.highlights}["Critical or high severity"] == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"total_impact": D("800.31")}, "total_impact"),
        (
            {"anomalies": [_line(start_date=END, end_date=END)], "total_impact": D("800.20")},
            r"anomalies\[1\]\.start_date",
        ),
        (
            {"anomalies": [_line(end_date=date(2025, 11, 19))], "total_impact": D("800.20")},
            r"anomalies\[1\]\.end_date",
        ),
        (
            {"anomalies": [_line(top_driver_change=D(1))], "total_impact": D("800.20")},
            r"anomalies\[1\]\.top_driver",
        ),
        ({"end_date": START}, "period"),
    ],
)
def test_inputs_that_do_not_tell_one_story_are_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        _input(**changes)


def test_the_top_driver_is_the_first_stored_resource_then_usage_type_then_tag() -> None:
    def driver(key: str, change: str, share: str | None, label: str | None = None) -> Driver:
        return Driver(key=key, label=label, actual=D(change), expected=D(0), change=D(change),
                      share_percent=None if share is None else D(share))  # fmt: skip

    stored = Drivers(
        resources=[driver("i-gpu", "1800.00", "98.5", label="trainer"), driver("i-small", "1.00", "1.5")],
        usage_types=[driver("BoxUsage:p3.8xlarge", "1800.00", "98.5")],
    ).as_json()
    assert top_driver(Anomaly(drivers=stored)) == ("trainer (i-gpu)", D("1800.00"), D("98.5"))
    stored["resources"] = []
    assert top_driver(Anomaly(drivers=stored)) == ("BoxUsage:p3.8xlarge", D("1800.00"), D("98.5"))
    tags = Drivers(tags=[driver("team=ml", "-3.10", None)]).as_json()
    assert top_driver(Anomaly(drivers=tags)) == ("team=ml", D("-3.10"), None)
    assert top_driver(Anomaly(drivers=None)) is None
