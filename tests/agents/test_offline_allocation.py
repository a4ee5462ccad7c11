"""The offline chat answers "cost by team last month" with ``cost_by_allocation`` (#21 B): the dimension is read
from the question, the period resolved against the pinned clock, and the sentences carry the tool's own
figures (unallocated always said); an unknown dimension is said in words."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import activate_version, allocate_range, load_rule_set
from cloudoptima_agents.chat.service import stream_turn
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_agents.offline_answers import allocation_dimension, detect
from cloudoptima_agents.toolkit import chat_tools
from cloudoptima_tools.catalog import catalog
from cloudoptima_tools.context import ToolContext
from tests.services.allocation_support import Row, load, new_org

NOW = datetime(2031, 5, 12, 9, tzinfo=UTC)
APRIL, MAY = date(2031, 4, 1), date(2031, 5, 1)


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    with Session(engine) as session, session.begin():
        connection = session.connection()
        org_id = new_org(connection)
        load(
            connection,
            org_id,
            [
                Row(date(2031, 4, 3), Decimal("120.60"), tags={"team": "web"}),
                Row(date(2031, 4, 9), Decimal("30.10"), tags={"team": "data"}),
                Row(date(2031, 4, 20), Decimal("9.50")),
                Row(date(2031, 5, 2), Decimal("500.00"), tags={"team": "web"}),  # this month: not asked
            ],
        )
        service = AllocationDimensions(session, org_id)
        dimension = service.create("team", None, NOW)
        service.save_rules(dimension.id, {"rules": [{"value_from_tag": "team"}]}, None, NOW)
        rule_set = load_rule_set(connection, org_id, dimension.id, 1)
        allocate_range(connection, org_id, dimension.id, 1, rule_set, APRIL, date(2031, 6, 1))
        activate_version(connection, org_id, dimension.id, 1, NOW)
    yield org_id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM organizations WHERE id = :org"), {"org": org_id})


async def _ask(engine: Engine, org: uuid.UUID, question: str) -> tuple[str, list[dict[str, Any]]]:
    ctx = ToolContext(
        organization_id=org,
        role="viewer",
        session_factory=sessionmaker(engine),
        principal="test",
        now=lambda: NOW,
    )
    events = [
        e
        async for e in stream_turn(
            OfflineChatModel(now=lambda: NOW),
            chat_tools(ctx, catalog()),
            InMemorySaver(),
            organization_id=org,
            user_id=uuid.uuid4(),
            conversation_id="offline-allocation",
            message=question,
        )
    ]
    assert events[-1].event == "done", events
    calls = [e.data for e in events if e.event == "tool_call"]
    return next(e.data["text"] for e in events if e.event == "message"), calls


def test_the_dimension_is_read_from_the_question_unless_built_in() -> None:
    today = NOW.date()
    assert allocation_dimension("cost by team last month") == "team"
    assert allocation_dimension("showback per products in April") == "product"
    assert detect("What did we spend by team last month?", today) == "allocation"
    for question in (
        "spend by service last month",
        "top accounts this week",
        "cost by tag team",
        "spend across all",
    ):
        assert allocation_dimension(question) is None, question
    assert detect("why did cost go up by team", today) == "change"


async def test_cost_by_team_last_month(engine: Engine, org: uuid.UUID) -> None:
    answer, calls = await _ask(engine, org, "cost by team last month")
    assert [(c["name"], c["args"]) for c in calls] == [
        ("cost_by_allocation", {"dimension": "team", "start_date": "2031-04-01", "end_date": "2031-05-01"})
    ]
    assert (
        "For last month, April 2031 (2031-04-01 to 2031-04-30) 160.20 USD was split over 3 team values"
        in answer
    )
    assert "web at 120.60 USD (75.3%) and data at 30.10 USD (18.8%)" in answer
    assert "Unallocated: 9.50 USD (5.9%)." in answer
    assert "cost_by_allocation" not in answer and "{" not in answer
    print(f"\n-> {answer}")


async def test_an_unknown_dimension_is_said_in_words(engine: Engine, org: uuid.UUID) -> None:
    answer, calls = await _ask(engine, org, "spend per product last month")
    assert calls[0]["args"]["dimension"] == "product"
    assert "no allocation dimension 'product'; defined: team" in answer, answer
