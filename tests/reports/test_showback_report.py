"""The showback report from real rollup rows: its lines sum exactly to ``/v1/costs/overview``'s total, the
untagged line is the total minus the tagged cost, each value's services add up, it renders in every format,
an unknown or missing tag key is refused naming ``parameters.tag_key``, and a pure input that does not tell
one story is refused naming the field."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from cloudoptima.reports.document import BarChart, ReportDocument
from cloudoptima.reports.renderers import FORMATS, render
from cloudoptima.reports.templates.showback import OTHER_SERVICES, UNTAGGED, ServiceCost, ShowbackInput
from cloudoptima.reports.templates.spend import SpendLine
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.report_catalog import build_report
from cloudoptima.services.report_inputs import ReportInputError
from tests.reports.cost_seeding import Cost, add_costs, make_organisation, remove_organisation, two_months

D = Decimal
START, END = date(2026, 11, 1), date(2026, 12, 1)
PREVIOUS_START = date(2026, 10, 2)
AT = datetime(2026, 12, 3, 6, tzinfo=UTC)
PARAMETERS = {"start_date": "2026-11-01", "end_date": "2026-12-01", "tag_key": "team"}


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id, _name = make_organisation(engine)
    add_costs(engine, org_id, two_months(PREVIOUS_START, START, END))
    add_costs(
        engine,
        org_id,
        [
            Cost(date(2026, 11, 5), D("1.005"), service="AmazonS3", tags={"team": "web"}),
            Cost(date(2026, 11, 6), D("0.30"), service="AWSLambda", tags={"team": "web"}),
            Cost(END, D("999"), tags={"team": "web"}),  # after the period: never counted
        ],
    )
    yield org_id
    remove_organisation(engine, org_id)


@pytest.fixture(scope="module")
def document(engine: Engine, org: uuid.UUID) -> ReportDocument:
    with engine.connect() as connection:
        return build_report(connection, org, "showback", {**PARAMETERS, "top_n": 2}, AT)


def test_lines_sum_to_the_overview_total_and_untagged_is_the_rest(
    engine: Engine, org: uuid.UUID, document: ReportDocument
) -> None:
    with engine.connect() as connection:
        api = CostAnalytics.for_organisation(connection, org)
        overview = api.overview(START, END)
        now = {b.dimension: b.cost for b in api.overview(START, END, group_by="tag:team").breakdown}
        before = {
            b.dimension: b.cost for b in api.overview(PREVIOUS_START, START, group_by="tag:team").breakdown
        }
    values = document.sections[0].tables[0]
    rows = {row[0]: row for row in values.rows}
    assert list(rows) == ["web", "data", UNTAGGED]  # largest first
    assert {k: (r[1], r[2]) for k, r in rows.items()} == {
        k: (now.get(k, D(0)), before.get(k, D(0))) for k in now | before
    }
    assert values.totals_row()[1:3] == [overview.total_cost, overview.period_comparison.previous_period]
    tagged = rows["web"][1] + rows["data"][1]  # type: ignore[operator]
    assert rows[UNTAGGED][1] == overview.total_cost - tagged == D("6.00")  # S3 at 0.20 a day
    assert rows["data"][1:5] == [D("12.500"), D(0), D("12.500"), None]
    highlights = {h.label: h.value for h in document.highlights}
    assert highlights["Total cost"] == overview.total_cost
    assert highlights["Untagged cost"] == D("6.00")
    assert highlights["Tagged with team %"] == (tagged / overview.total_cost * 100).quantize(D("0.01"))
    chart = document.sections[0].charts[0]
    assert isinstance(chart, BarChart)
    assert [(i.label, i.value) for i in chart.items] == [("web", rows["web"][1]), ("data", D("12.500"))]


def test_each_values_top_services_add_up_to_its_cost(document: ReportDocument) -> None:
    costs = {row[0]: row[1] for row in document.sections[0].tables[0].rows}
    services = document.sections[1].tables[0].rows
    web = [row for row in services if row[0] == "web"]
    ec2 = costs["web"] - D("1.305")  # type: ignore[operator]
    assert web == [
        ["web", "AmazonEC2", ec2],
        ["web", "AmazonS3", D("1.005")],
        ["web", OTHER_SERVICES, D("0.30")],
    ]
    for value, cost in costs.items():
        assert sum(row[2] for row in services if row[0] == value) == cost  # type: ignore[misc]
    assert [row for row in services if row[0] == UNTAGGED] == [[UNTAGGED, "AmazonS3", D("6.00")]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(document: ReportDocument, fmt: str) -> None:
    out = io.BytesIO()
    assert render(document, fmt, out) == len(out.getvalue()) > 0


def test_an_unknown_or_missing_tag_key_is_named(engine: Engine, org: uuid.UUID) -> None:
    with engine.connect() as connection:
        with pytest.raises(ReportInputError, match=r"^parameters\.tag_key: 'cost_centre' is not one of"):
            build_report(connection, org, "showback", {**PARAMETERS, "tag_key": "cost_centre"}, AT)
        with pytest.raises(ReportInputError, match=r"^parameters\.tag_key: required by showback"):
            build_report(
                connection, org, "showback", {"start_date": "2026-11-01", "end_date": "2026-12-01"}, AT
            )
        with pytest.raises(ReportInputError, match=r"^parameters\.currency: no costs in EUR"):
            build_report(connection, org, "showback", {**PARAMETERS, "currency": "EUR"}, AT)


def _input(**changes: object) -> ShowbackInput:
    fields: dict[str, object] = {
        "organisation_name": "Acme",
        "currency": "USD",
        "start_date": START,
        "end_date": END,
        "generated_at": AT,
        "tag_key": "team",
        "total_cost": D("10.30"),
        "previous_total_cost": D("5"),
        "by_value": [
            SpendLine(label="web", cost=D("10.10"), previous_cost=D("5")),
            SpendLine(label=UNTAGGED, cost=D("0.20")),
        ],
        "services": [
            ServiceCost(tag_value="web", service="AmazonEC2", cost=D("10.10")),
            ServiceCost(tag_value=UNTAGGED, service="AmazonS3", cost=D("0.20")),
        ],
    }
    fields.update(changes)
    return ShowbackInput.model_validate(fields)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"total_cost": D("10.31")}, r"by_value: costs sum to 10.30, total_cost is 10.31"),
        ({"previous_total_cost": D("4")}, r"by_value: previous costs sum to 5, previous_total_cost is 4"),
        (
            {"by_value": [SpendLine(label="web", cost=D("10.30"), previous_cost=D("5"))]},
            r"by_value: expected exactly one \(untagged\) line",
        ),
        (
            {"services": [ServiceCost(tag_value="web", service="AmazonEC2", cost=D("10.10"))]},
            r"services: the services of '\(untagged\)' sum to 0, its cost is 0.20",
        ),
        (
            {"services": [ServiceCost(tag_value="api", service="AmazonEC2", cost=D("10.30"))]},
            r"services: 'api' is not a line of by_value",
        ),
    ],
)
def test_an_input_that_does_not_tell_one_story_is_refused(changes: dict[str, object], message: str) -> None:
    assert _input().total_cost == D("10.30")
    with pytest.raises(ValidationError, match=message):
        _input(**changes)
