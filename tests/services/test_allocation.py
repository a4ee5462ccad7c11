"""Allocation rules, shared splits and re-allocation against a real Postgres (cloudoptima.services.allocation)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from cloudoptima.domain.allocation import AllocationRuleError, parse_rule_set, split_exact
from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import (
    activate_version,
    allocate_range,
    allocation_months,
    load_rule_set,
    reallocate_days,
)
from cloudoptima.services.allocation.queries import cost_by_allocation
from tests.services.allocation_support import Row, allocated, load, new_org

NOW = datetime(2031, 4, 1, tzinfo=UTC)
D1, D2 = date(2031, 3, 1), date(2031, 3, 2)
MARCH, APRIL = date(2031, 3, 1), date(2031, 4, 1)


def _dimension(session: Session, org: uuid.UUID, rules: object, name: str = "team") -> tuple[uuid.UUID, int]:
    service = AllocationDimensions(session, org)
    dimension = service.create(name, None, NOW)
    view, _ = service.save_rules(dimension.id, rules, None, NOW)
    return dimension.id, view.latest_version


def _run(connection: Connection, org: uuid.UUID, dim: uuid.UUID, version: int) -> None:
    rule_set = load_rule_set(connection, org, dim, version)
    for month in allocation_months(connection, org):
        next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        allocate_range(connection, org, dim, version, rule_set, month, next_month)
    activate_version(connection, org, dim, version, NOW)


def test_split_exact_is_largest_remainder_at_the_amounts_precision() -> None:
    assert split_exact(Decimal("10.00"), [Decimal(1)] * 3) == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert split_exact(Decimal("-0.05"), [Decimal(1), Decimal(1)]) == [Decimal("-0.03"), Decimal("-0.02")]
    parts = split_exact(Decimal("1.000001"), [Decimal(2), Decimal(1)])
    assert parts == [Decimal("0.666667"), Decimal("0.333334")] and sum(parts) == Decimal("1.000001")
    assert split_exact(Decimal(7), [Decimal(50), Decimal(25), Decimal(25)]) == [
        Decimal("3.50"),
        Decimal("1.75"),
        Decimal("1.75"),
    ]


def test_invalid_rule_sets_name_the_rule_and_field() -> None:
    with pytest.raises(AllocationRuleError) as both:
        parse_rule_set({"rules": [{"value": "a"}, {"value": "b", "value_from_tag": "team"}]})
    assert both.value.field == "rules[1].value"
    with pytest.raises(AllocationRuleError) as percent:
        parse_rule_set(
            {
                "shared": [
                    {
                        "name": "s",
                        "match": {},
                        "method": "fixed",
                        "targets": ["a", "b"],
                        "percentages": [50, 49],
                    }
                ]
            }
        )
    assert percent.value.field == "shared[0].percentages"
    with pytest.raises(AllocationRuleError) as typed:
        parse_rule_set({"rules": [{"value": "a", "match": {"tags": [{"key": ""}]}}]})
    assert typed.value.field == "rules[0].match.tags[0].key"
    with pytest.raises(AllocationRuleError) as unknown:
        parse_rule_set({"rules": [{"value": "a", "match": {"colour": ["red"]}}]})
    assert unknown.value.field == "rules[0].match.colour"


def test_first_match_wins_with_normalised_tags_and_resource_patterns(db_session: Session) -> None:
    connection = db_session.connection()
    org = new_org(connection)
    load(
        connection,
        org,
        [
            Row(D1, Decimal("1.10"), tags={"Env": "PROD", "Team": "Data"}),
            Row(D1, Decimal("2.20"), tags={"environment": "prod"}),
            Row(D1, Decimal("3.30"), tags={"stage": "Prod"}, resource_id="arn:aws:ec2:i-123"),
            Row(D1, Decimal("4.40"), service="S3", resource_type="Bucket"),
            Row(D1, Decimal("5.50"), service="Lambda", tags={"cost-center": " ML "}),
            Row(D1, Decimal("6.60"), service="Lambda"),
        ],
    )
    dim, version = _dimension(
        db_session,
        org,
        {
            "tag_aliases": {"environment": ["env", "stage"]},
            "rules": [
                {"value": "data", "match": {"tags": [{"key": "TEAM", "values": ["data"]}]}},
                {"value": "instances", "match": {"resource_id_patterns": ["*:i-*"]}},
                {"value": "prod", "match": {"tags": [{"key": "Environment", "values": ["prod"]}]}},
                {"value": "storage", "match": {"providers": ["AWS"], "resource_types": ["bucket"]}},
                {"value_from_tag": "CostCenter", "match": {"services": ["Lambda"]}},
            ],
        },
    )
    _run(connection, org, dim, version)
    assert [(value, cost) for _, _, value, _, cost, _ in allocated(connection, org, dim, version)] == [
        ("data", Decimal("1.10")),
        ("instances", Decimal("3.30")),
        ("ml", Decimal("5.50")),
        ("prod", Decimal("2.20")),
        ("storage", Decimal("4.40")),
        ("unallocated", Decimal("6.60")),
    ]
    view = cost_by_allocation(connection, org, "team", D1, D2, reconcile=True)
    [usd] = view.currencies
    assert usd.total_cost == Decimal("23.10") and usd.pending == 0
    assert [v.value for v in usd.values][-1] == "data" and usd.values[0].value == "unallocated"


def test_shared_costs_split_proportionally_evenly_and_by_percentages(db_session: Session) -> None:
    connection = db_session.connection()
    org = new_org(connection)
    team = {"rules": [{"value_from_tag": "team"}]}
    load(
        connection,
        org,
        [
            Row(D1, Decimal("30.00"), tags={"team": "a"}),
            Row(D1, Decimal("10.00"), tags={"team": "b"}),
            Row(D1, Decimal("5.00")),  # unallocated: no weight in a proportional split
            Row(D1, Decimal("1.00"), service="Support"),
            Row(D1, Decimal("10.00"), service="Network"),
            Row(D1, Decimal("0.07"), service="Cluster"),
        ],
    )
    dim, version = _dimension(
        db_session,
        org,
        {
            **team,
            "shared": [
                {"name": "support", "match": {"services": ["Support"]}},
                {
                    "name": "net",
                    "match": {"services": ["Network"]},
                    "method": "even",
                    "targets": ["a", "b", "c"],
                },
                {
                    "name": "k8s",
                    "match": {"services": ["Cluster"]},
                    "method": "fixed",
                    "targets": ["a", "b"],
                    "percentages": ["50", "50"],
                },
            ],
        },
    )
    _run(connection, org, dim, version)
    shared = {(v, s): c for _, _, v, s, c, is_shared in allocated(connection, org, dim, version) if is_shared}
    assert shared == {
        ("a", "Support"): Decimal("0.75"),
        ("b", "Support"): Decimal("0.25"),
        ("a", "Network"): Decimal("3.34"),
        ("b", "Network"): Decimal("3.33"),
        ("c", "Network"): Decimal("3.33"),
        ("a", "Cluster"): Decimal("0.04"),
        ("b", "Cluster"): Decimal("0.03"),
    }
    [usd] = cost_by_allocation(connection, org, "team", D1, D2, granularity="daily").currencies
    assert sum(v.cost for v in usd.values) == usd.total_cost == Decimal("56.07")
    by_value = {v.value: v for v in usd.values}
    assert by_value["a"].cost == Decimal("34.13") and by_value["a"].shared_cost == Decimal("4.13")
    assert [p.cost for p in by_value["c"].series] == [Decimal("3.33")]


def test_reallocation_after_a_rule_change_is_exact_idempotent_and_switches_atomically(
    db_session: Session,
) -> None:
    connection = db_session.connection()
    org = new_org(connection)
    load(
        connection,
        org,
        [Row(D1, Decimal("1.25"), tags={"team": "x"}), Row(date(2031, 4, 3), Decimal("2.50"), service="S3")],
    )
    service = AllocationDimensions(db_session, org)
    dim, v1 = _dimension(db_session, org, {"rules": [{"value": "ec2", "match": {"services": ["EC2"]}}]})
    _run(connection, org, dim, v1)
    first = allocated(connection, org, dim, v1)
    assert [(v, c) for _, _, v, _, c, _ in first] == [
        ("ec2", Decimal("1.25")),
        ("unallocated", Decimal("2.50")),
    ]

    view, _ = service.save_rules(
        dim, {"rules": [{"value": "storage", "match": {"services": ["S3"]}}]}, None, NOW
    )
    v2 = view.latest_version
    assert v2 == 2
    rule_set = load_rule_set(connection, org, dim, v2)
    allocate_range(connection, org, dim, v2, rule_set, MARCH, APRIL)
    # readers still see version 1 until the new version is complete and activated
    assert cost_by_allocation(connection, org, "team", MARCH, date(2031, 5, 1)).version == v1
    _run(connection, org, dim, v2)
    once = allocated(connection, org, dim, v2)
    _run(connection, org, dim, v2)  # rerun: the same rows
    assert allocated(connection, org, dim, v2) == once
    assert [(v, c) for _, _, v, _, c, _ in once] == [
        ("unallocated", Decimal("1.25")),
        ("storage", Decimal("2.50")),
    ]
    assert allocated(connection, org, dim, v1) == []  # the old version's rows are gone
    # a late run of the old version neither activates it nor leaves rows behind
    allocate_range(connection, org, dim, v1, load_rule_set(connection, org, dim, v1), MARCH, APRIL)
    assert not activate_version(connection, org, dim, v1, NOW)
    assert allocated(connection, org, dim, v1) == []
    assert service.get(dim).active_version == v2

    # new cost rows: the ingestion hook re-allocates those days for the active version
    load(connection, org, [Row(D1, Decimal("0.75"), service="S3")])
    assert cost_by_allocation(connection, org, "team", MARCH, APRIL, reconcile=True).currencies[
        0
    ].pending == Decimal("0.75")
    reallocate_days(connection, org, D1, D2)
    march = cost_by_allocation(connection, org, "team", MARCH, APRIL, reconcile=True).currencies[0]
    assert march.pending == 0 and {v.value: v.cost for v in march.values}["storage"] == Decimal("0.75")
    plain = cost_by_allocation(connection, org, "team", MARCH, APRIL).currencies[0]
    assert plain.pending is None and plain.total_cost == march.total_cost and plain.values == march.values


_VALUES = st.sampled_from(["a", "b", "c"])
_MATCH = st.fixed_dictionaries(
    {},
    optional={
        "services": st.lists(st.sampled_from(["EC2", "S3", "RDS"]), min_size=1, max_size=2),
        "regions": st.lists(st.sampled_from(["us-east-1", "eu-west-1"]), min_size=1, max_size=1),
        "accounts": st.lists(st.sampled_from(["111", "222"]), min_size=1, max_size=1),
        "tags": st.lists(
            st.fixed_dictionaries(
                {"key": st.sampled_from(["team", "Team", "ENV"])},
                optional={"values": st.lists(st.sampled_from(["x", "Y", "prod"]), max_size=2)},
            ),
            min_size=1,
            max_size=2,
        ),
    },
)
_RULE = st.one_of(
    st.fixed_dictionaries({"value": _VALUES, "match": _MATCH}),
    st.fixed_dictionaries({"value_from_tag": st.sampled_from(["team", "env"]), "match": _MATCH}),
)
_SHARED = st.one_of(
    st.fixed_dictionaries({"name": st.just("p"), "match": _MATCH, "method": st.just("proportional")}),
    st.fixed_dictionaries(
        {"name": st.just("e"), "match": _MATCH, "method": st.just("even"), "targets": st.just(["a", "c"])}
    ),
    st.fixed_dictionaries(
        {
            "name": st.just("f"),
            "match": _MATCH,
            "method": st.just("fixed"),
            "targets": st.just(["a", "b", "c"]),
            "percentages": st.just(["33.3", "33.3", "33.4"]),
        }
    ),
)
_ROW = st.builds(
    Row,
    day=st.sampled_from([D1, D2, date(2031, 4, 30)]),
    cost=st.decimals(min_value=Decimal("-5"), max_value=Decimal("50"), places=6),
    service=st.sampled_from(["EC2", "S3", "RDS"]),
    account=st.sampled_from(["111", "222"]),
    region=st.sampled_from(["us-east-1", "eu-west-1"]),
    currency=st.sampled_from(["USD", "EUR"]),
    tags=st.dictionaries(
        st.sampled_from(["team", "Team", "env", "Env"]), st.sampled_from(["x", "y", "PROD"])
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(_ROW, min_size=1, max_size=25),
    rules=st.lists(_RULE, max_size=4),
    shared=st.lists(_SHARED, max_size=2),
)
def test_allocated_totals_equal_the_unallocated_total_to_the_cent(
    db_session: Session, rows: list[Row], rules: list[object], shared: list[object]
) -> None:
    savepoint = db_session.begin_nested()
    try:
        connection = db_session.connection()
        org = new_org(connection)
        load(connection, org, rows)
        rule_data = {"rules": rules, "shared": shared, "tag_aliases": {"team": ["owner"]}}
        dim, version = _dimension(db_session, org, rule_data)
        _run(connection, org, dim, version)
        expected: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        for row in rows:
            expected[(row.day, row.currency)] += row.cost
        got: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        for day, currency, _, _, cost, _ in allocated(connection, org, dim, version):
            got[(day, currency)] += cost
        assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
        view = cost_by_allocation(
            connection, org, "team", D1, date(2031, 5, 1), granularity="monthly", reconcile=True
        )
        for currency in view.currencies:
            assert currency.pending == 0
            assert sum((v.cost for v in currency.values), Decimal(0)) == currency.total_cost
            for value in currency.values:
                assert sum((p.cost for p in value.series), Decimal(0)) == value.cost
    finally:
        savepoint.rollback()


def test_rows_arriving_during_a_reallocation_reach_the_new_version_too(db_session: Session) -> None:
    connection = db_session.connection()
    org = new_org(connection)
    load(connection, org, [Row(D1, Decimal("1.00"), service="S3")])
    service = AllocationDimensions(db_session, org)
    dim, v1 = _dimension(db_session, org, {"rules": []})
    _run(connection, org, dim, v1)
    view, rule_set = service.save_rules(
        dim, {"rules": [{"value": "s3", "match": {"services": ["S3"]}}]}, None, NOW
    )
    allocate_range(connection, org, dim, view.latest_version, rule_set, MARCH, APRIL)  # the workflow's March
    load(connection, org, [Row(D2, Decimal("0.50"), service="S3")])  # an ingest, before v2 is activated
    reallocate_days(connection, org, D2, date(2031, 3, 3))
    assert [(v, c) for _, _, v, _, c, _ in allocated(connection, org, dim, v1)][-1] == (
        "unallocated",
        Decimal("0.50"),
    )
    assert activate_version(connection, org, dim, view.latest_version, NOW)
    [usd] = cost_by_allocation(connection, org, "team", MARCH, APRIL, reconcile=True).currencies
    assert usd.pending == 0 and [(v.value, v.cost) for v in usd.values] == [("s3", Decimal("1.50"))]
