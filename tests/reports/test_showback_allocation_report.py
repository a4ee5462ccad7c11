"""The showback report by an allocation dimension (#21 B): lines per allocated value with ``unallocated`` always
a line, summing exactly to ``/v1/costs/overview``'s total (cost that arrived after the last re-allocation a
``(not yet allocated)`` line of its own), each value's services adding up, every format rendering, and exactly
one of ``tag_key`` and ``dimension`` (named otherwise)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.renderers import FORMATS, render
from cloudoptima.reports.templates.showback import PENDING, UNALLOCATED
from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import activate_version, allocate_range, load_rule_set
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.report_catalog import build_report, get_template, resolve_parameters
from cloudoptima.services.report_inputs import ReportInputError
from tests.services.allocation_support import Row, load, new_org

D = Decimal
START, END = date(2026, 11, 1), date(2026, 12, 1)
PREVIOUS_START = date(2026, 10, 2)
AT = datetime(2026, 12, 3, 6, tzinfo=UTC)
PARAMETERS = {"start_date": "2026-11-01", "end_date": "2026-12-01", "dimension": "team"}


def _dimension(engine: Engine, org: uuid.UUID, name: str, rules: object) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with Session(engine) as session:
        service = AllocationDimensions(session, org)
        dim = service.create(name, None, now).id
        view, _ = service.save_rules(dim, rules, None, now)
        session.commit()
    with engine.begin() as connection:
        rule_set = load_rule_set(connection, org, dim, view.latest_version)
        allocate_range(connection, org, dim, view.latest_version, rule_set, date(2026, 10, 1), END)
        activate_version(connection, org, dim, view.latest_version, now)


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    with engine.begin() as connection:
        org_id = new_org(connection)
        load(
            connection,
            org_id,
            [
                Row(date(2026, 10, 20), D("4.00"), tags={"team": "web"}),
                Row(date(2026, 11, 5), D("10.00"), tags={"Team": "Web"}),
                Row(date(2026, 11, 5), D("3.00"), service="AmazonS3", tags={"team": "data"}),
                Row(date(2026, 11, 5), D("1.00"), service="Support"),
                Row(date(2026, 11, 7), D("2.50")),
                Row(date(2026, 11, 8), D("0.40"), service="AmazonS3"),
                Row(END, D("999"), tags={"team": "web"}),  # after the period: never counted
            ],
        )
    _dimension(
        engine,
        org_id,
        "team",
        {
            "rules": [{"value_from_tag": "team"}],
            "shared": [{"name": "support", "match": {"services": ["Support"]}}],
        },
    )
    _dimension(engine, org_id, "env", {"rules": [{"value": "prod"}]})
    yield org_id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM organizations WHERE id = :org"), {"org": org_id})


def _build(engine: Engine, org: uuid.UUID, **changes: object) -> ReportDocument:
    with engine.connect() as connection:
        return build_report(connection, org, "showback", {**PARAMETERS, **changes}, AT)


def _overview(engine: Engine, org: uuid.UUID) -> tuple[Decimal, Decimal]:
    with engine.connect() as connection:
        overview = CostAnalytics.for_organisation(connection, org).overview(START, END)
    return overview.total_cost, overview.period_comparison.previous_period


def _check_sums(document: ReportDocument, total: Decimal, previous: Decimal) -> dict[object, list[object]]:
    table = document.sections[0].tables[0]
    rows = {row[0]: row for row in table.rows}
    assert table.totals_row()[1:3] == [total, previous]
    costs = {label: row[1] for label, row in rows.items()}
    services = document.sections[1].tables[0].rows
    for label, cost in costs.items():
        assert sum((row[2] for row in services if row[0] == label), D(0)) == cost  # type: ignore[misc]
    return rows


def test_lines_sum_to_the_overview_and_follow_late_cost(engine: Engine, org: uuid.UUID) -> None:
    document = _build(engine, org, top_n=1)
    total, previous = _overview(engine, org)
    rows = _check_sums(document, total, previous)
    # support (1.00) split 10:3 over web and data on Nov 5; the untagged rows are the unallocated line
    assert {k: (r[1], r[2]) for k, r in rows.items()} == {
        "web": (D("10.77"), D("4.00")),
        "data": (D("3.23"), D(0)),
        UNALLOCATED: (D("2.90"), D(0)),
    }
    assert list(rows) == ["web", "data", UNALLOCATED] and total == D("16.90")
    assert document.title == "Showback: team (allocation)"
    highlights = {h.label: h.value for h in document.highlights}
    assert highlights["Unallocated cost"] == D("2.90") and "Not yet allocated" not in highlights
    assert highlights["Allocated to a team %"] == (D("14.00") / total * 100).quantize(D("0.01"))
    services = document.sections[1].tables[0].rows
    assert [r for r in services if r[0] == "web"] == [
        ["web", "EC2", D("10.00")],
        ["web", "(other services)", D("0.77")],
    ]

    # a value with everything allocated still shows its unallocated line, at 0
    env = _check_sums(_build(engine, org, dimension="env"), total, previous)
    assert {k: r[1] for k, r in env.items()} == {"prod": total, UNALLOCATED: D(0)}

    # cost rows that arrive after the last re-allocation are their own line until re-allocated
    with engine.begin() as connection:
        load(connection, org, [Row(date(2026, 11, 9), D("7.00"), tags={"team": "web"})])
    late_total, late_previous = _overview(engine, org)
    late = _check_sums(_build(engine, org), late_total, late_previous)
    assert late[PENDING][1] == D("7.00") and late["web"][1] == D("10.77") and late_total == D("23.90")
    assert [r for r in _build(engine, org).sections[1].tables[0].rows if r[0] == PENDING] == [
        [PENDING, "EC2", D("7.00")]
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(engine: Engine, org: uuid.UUID, fmt: str) -> None:
    out = io.BytesIO()
    assert render(_build(engine, org, dimension="env"), fmt, out) == len(out.getvalue()) > 0


def test_exactly_one_of_tag_key_and_dimension_is_named(engine: Engine, org: uuid.UUID) -> None:
    template = get_template("showback")
    assert (
        resolve_parameters(template, {"dimension": "team"}, AT)["dimension"] == "team"
    )  # what schedules check
    with pytest.raises(
        ReportInputError, match=r"^parameters\.dimension: give exactly one of tag_key and dimension"
    ):
        resolve_parameters(template, {"dimension": "team", "tag_key": "team"}, AT)
    with pytest.raises(
        ReportInputError, match=r"^parameters\.tag_key: required by showback \(give exactly one of"
    ):
        resolve_parameters(template, {}, AT)
    with pytest.raises(
        ReportInputError, match=r"^parameters\.dimension: no allocation dimension named 'teams'"
    ):
        _build(engine, org, dimension="teams")
