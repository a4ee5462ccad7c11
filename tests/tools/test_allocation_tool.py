"""``cost_by_allocation`` over a real database: values with ``unallocated`` summing to the total, shared
cost reported, the value list bounded with the rest summed, and an unknown dimension named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import activate_version, allocate_range, load_rule_set
from cloudoptima_tools import allocation
from cloudoptima_tools.allocation import (
    AllocatedValue,
    CostByAllocationInput,
    CostByAllocationOutput,
    CurrencyShowback,
    cost_by_allocation,
)
from cloudoptima_tools.cache import ResultCache
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInputError, estimate_tokens
from tests.services.allocation_support import Row, load, new_org

NOW = datetime(2031, 8, 1, tzinfo=UTC)
JULY, AUGUST = date(2031, 7, 1), date(2031, 8, 1)


def test_cost_by_allocation_tool(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(engine) as session, session.begin():
        connection = session.connection()
        org = new_org(connection)
        load(
            connection,
            org,
            [Row(date(2031, 7, 3), Decimal(f"{n}.25"), tags={"team": f"t{n}"}) for n in range(1, 5)]
            + [
                Row(date(2031, 7, 3), Decimal("0.50")),
                Row(date(2031, 7, 3), Decimal("1.00"), service="Support"),
            ],
        )
        service = AllocationDimensions(session, org)
        dimension = service.create("team", None, NOW)
        rules = {
            "rules": [{"value_from_tag": "team"}],
            "shared": [{"name": "s", "match": {"services": ["Support"]}}],
        }
        service.save_rules(dimension.id, rules, None, NOW)
        rule_set = load_rule_set(connection, org, dimension.id, 1)
        allocate_range(connection, org, dimension.id, 1, rule_set, JULY, AUGUST)
        activate_version(connection, org, dimension.id, 1, NOW)
    ctx = ToolContext(
        organization_id=org,
        role="viewer",
        session_factory=sessionmaker(engine, expire_on_commit=False),
        cache=ResultCache(),
        now=lambda: NOW,
    )
    try:
        out = cost_by_allocation(
            ctx, CostByAllocationInput(dimension="team", start_date=JULY, reconcile=True)
        )
        [usd] = out.currencies
        assert out.version == 1 and out.end_date == date(2031, 8, 2)
        assert usd.total_cost == Decimal("12.50") and usd.pending == 0
        assert [v.value for v in usd.values] == ["t4", "t3", "t2", "t1", "unallocated"]
        assert sum(v.cost for v in usd.values) == usd.total_cost
        assert usd.values[0].shared_cost == Decimal(
            "0.39"
        )  # 4.25 / 11.00 of 1.00: 38.6 cents, +1 by largest remainder

        monkeypatch.setattr(allocation, "MAX_VALUES", 2)
        bounded = cost_by_allocation(
            ctx, CostByAllocationInput(dimension="team", start_date=JULY)
        ).currencies[0]
        assert len(bounded.values) == 2 and bounded.values_left_off == 3
        assert sum(v.cost for v in bounded.values) + bounded.left_off_cost == usd.total_cost

        with pytest.raises(
            ToolInputError, match="dimension: no allocation dimension 'product'; defined: team"
        ):
            cost_by_allocation(ctx, CostByAllocationInput(dimension="product"))
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM cost_data WHERE organization_id = :org"), {"org": org})
            connection.execute(text("DELETE FROM organizations WHERE id = :org"), {"org": org})


def test_the_widest_answer_fits_the_budget() -> None:
    value = AllocatedValue(
        value="v" * allocation.MAX_VALUE_CHARS,
        cost=Decimal("-123456789012.123456789"),
        share_percent=Decimal("-100.0"),
        shared_cost=Decimal("-123456789012.123456789"),
    )
    widest = CostByAllocationOutput(
        dimension="d" * 63,
        version=2**31,
        start_date=JULY,
        end_date=AUGUST,
        currencies=[
            CurrencyShowback(
                currency="USD",
                total_cost=value.cost,
                pending=value.cost,
                values=[value] * allocation.MAX_VALUES,
                values_left_off=10**6,
                left_off_cost=value.cost,
            )
        ]
        * allocation.MAX_CURRENCIES,
        currencies_left_off=10**3,
    )
    assert estimate_tokens(widest.model_dump_json()) <= allocation.BUDGET
