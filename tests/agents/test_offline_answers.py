"""The offline chat answers the common questions in sentences whose numbers are the services' own.

Every turn runs the real chat graph (``stream_turn``) with the offline model on a pinned clock over the sandbox
estate (data from 2030-12-01 to 2031-02-28); expected figures come from the cost analytics, recommendation
and budget services for the same period.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from cloudoptima.domain.budgets import BudgetSpec
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.services.account_names import account_names
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.models import Budget
from cloudoptima_agents.chat.service import stream_turn
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_agents.offline_answers import display_names, money
from cloudoptima_agents.toolkit import chat_tools
from cloudoptima_tools.catalog import catalog
from cloudoptima_tools.context import ToolContext

NOW = datetime(2031, 2, 20, 10, 30, tzinfo=UTC)
SERVICES = {
    "EC2": "Elastic Compute Cloud",
    "RDS": "Relational Database Service",
    "Virtual Machines": "Virtual Machines",
}


async def _ask(ctx: ToolContext, question: str, now: datetime = NOW) -> tuple[str, list[dict[str, Any]]]:
    """The final answer and the tool_call events of one offline turn; checks the stream's shape."""
    events = [
        e
        async for e in stream_turn(
            OfflineChatModel(now=lambda: now),
            chat_tools(ctx, catalog()),
            InMemorySaver(),
            organization_id=ctx.organization_id,
            user_id=uuid.uuid4(),
            conversation_id="offline",
            message=question,
        )
    ]
    kinds = [e.event for e in events]
    assert kinds[-1] == "done", events
    calls = [e.data for e in events if e.event == "tool_call"]
    assert len([e for e in events if e.event == "tool_result"]) == len(calls)
    message = next(e.data for e in events if e.event == "message")
    final = message["text"]
    assert message["offline"] is True
    assert "".join(e.data["text"] for e in events if e.event == "token").strip() == final.strip()
    assert not final.startswith("[") and "offline" not in final.lower(), final
    for call in calls:
        assert call["name"] not in final, final
    _readable(final)
    return final, calls


def _readable(answer: str) -> None:
    """Sentences, not a dump: no JSON/dict syntax, no field names, 1-6 sentences."""
    body = answer
    for token in ("{", "}", "[", "]", '":', "':", "billed_cost", "items:", "_usd"):
        assert token not in body, (token, answer)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", body.strip()) if s]
    assert 1 <= len(sentences) <= 6, sentences


def _analytics(engine: Engine, org: uuid.UUID) -> Any:
    connection = engine.connect()
    return connection, CostAnalytics.for_organisation(connection, org)


@pytest.mark.parametrize(
    ("question", "group_by", "start", "end"),
    [
        ("What did we spend most on last month?", "service", date(2031, 1, 1), date(2031, 2, 1)),
        ("top services in December", "service", date(2030, 12, 1), date(2031, 1, 1)),
        ("Top accounts this week", "account", date(2031, 2, 17), date(2031, 2, 21)),
        ("which regions cost the most in the last 30 days?", "region", date(2031, 1, 21), date(2031, 2, 20)),
        ("How much did we spend yesterday?", "service", date(2031, 2, 19), date(2031, 2, 20)),
    ],
)
async def test_top_spend_for_a_named_period(
    engine: Engine, tool_context: ToolContext, question: str, group_by: str, start: date, end: date
) -> None:
    answer, calls = await _ask(tool_context, question)
    assert [c["name"] for c in calls] == ["cost_by_dimension"]
    args = calls[0]["args"]
    assert (args["start_date"], args["end_date"], args["group_by"]) == (str(start), str(end), group_by)
    connection, analytics = _analytics(engine, tool_context.organization_id)
    with connection:
        found = analytics.groups(start, end, group_by=group_by, limit=5)
    assert found.groups, "the sandbox has spend in every tested period"
    assert money(found.total_billed_cost, found.currency) in answer
    for group in found.groups[:3]:
        called = group.name or group.key
        assert f"{called} at {money(group.billed_cost, found.currency)}" in answer, answer
        if group_by == "account":
            assert group.name, "the sandbox's accounts are named"
            assert f"account {group.key}" not in answer
    last = end - timedelta(days=1)
    assert (f"({start} to {last})" if last > start else f"({start})") in answer
    print(f"\n{question!r} -> {answer}")


async def test_last_month_asked_in_january_is_last_december(
    engine: Engine, tool_context: ToolContext
) -> None:
    answer, calls = await _ask(
        tool_context, "what did we spend most on last month", datetime(2031, 1, 12, 8, tzinfo=UTC)
    )
    assert calls[0]["args"]["start_date"] == "2030-12-01" and calls[0]["args"]["end_date"] == "2031-01-01"
    connection, analytics = _analytics(engine, tool_context.organization_id)
    with connection:
        found = analytics.groups(date(2030, 12, 1), date(2031, 1, 1), group_by="service", limit=5)
    assert "last month, December 2030" in answer
    assert money(found.total_billed_cost, found.currency) in answer
    print(f"\n(January) -> {answer}")


async def test_a_period_without_data_says_so(tool_context: ToolContext) -> None:
    answer, _ = await _ask(tool_context, "top services in November")
    assert "no cost data for November 2030 (2030-11-01 to 2030-11-30)" in answer


@pytest.mark.parametrize(
    ("question", "start", "end", "previous"),
    [
        ("Why did cost go up?", date(2031, 2, 13), date(2031, 2, 20), date(2031, 2, 6)),
        ("why did costs change last month", date(2031, 1, 1), date(2031, 2, 1), date(2030, 12, 1)),
        (
            "What drove the increase in spend this month?",
            date(2031, 2, 1),
            date(2031, 2, 20),  # complete days: today does not count
            date(2031, 1, 1),
        ),
        ("why did EC2 jump yesterday", date(2031, 2, 19), date(2031, 2, 20), date(2031, 2, 18)),
        (
            "why did Virtual Machines cost go up this month",
            date(2031, 2, 1),
            date(2031, 2, 20),  # complete days: today does not count
            date(2031, 1, 1),
        ),
        ("why did RDS rise last week", date(2031, 2, 10), date(2031, 2, 17), date(2031, 2, 3)),
    ],
)
async def test_why_cost_changed(
    engine: Engine, tool_context: ToolContext, question: str, start: date, end: date, previous: date
) -> None:
    answer, calls = await _ask(tool_context, question)
    assert [c["name"] for c in calls] == ["cost_compare_periods"]
    args = calls[0]["args"]
    assert (args["start_date"], args["end_date"], args["previous_start_date"]) == (
        str(start),
        str(end),
        str(previous),
    )
    connection, analytics = _analytics(engine, tool_context.organization_id)
    with connection:
        found = analytics.compare(start, end, previous, group_by="service")
    cur = found.currency
    named = next((n for q, n in SERVICES.items() if q in question), None)
    totals = (
        f"to {money(found.current_total, cur)} from {money(found.previous_total, cur)}"
        if named
        else f"{money(found.current_total, cur)} against {money(found.previous_total, cur)}"
    )
    assert totals in answer, answer
    if found.change:
        assert money(abs(found.change), cur) in answer
    if named:
        ec2 = next((d for d in found.drivers if named in d.key), None)
        if ec2 is None:
            assert "did not change" in answer
        else:
            verb = "rose" if ec2.change > 0 else "did not go up: it fell"
            assert answer.startswith(f"{ec2.key} {verb} by {money(abs(ec2.change), cur)}"), answer
            assert f"{money(ec2.current, cur)} against {money(ec2.previous, cur)}" in answer
    else:
        ups = [d for d in found.drivers if d.change > 0]
        downs = [d for d in found.drivers if d.change < 0]
        lead = (ups if found.change >= 0 else downs)[0]
        assert f"{lead.key} ({'+' if lead.change > 0 else '-'}{money(abs(lead.change), cur)}" in answer
    print(f"\n{question!r} -> {answer}")


@pytest.mark.parametrize(
    "question", ["Where can we save?", "How can I reduce cost?", "Which recommendations would save the most?"]
)
async def test_where_to_save(engine: Engine, tool_context: ToolContext, question: str) -> None:
    answer, calls = await _ask(tool_context, question)
    assert [c["name"] for c in calls] == ["recommendations_list"]
    with Session(engine) as session:
        rows = RecommendationService(session, tool_context.organization_id, SandboxPriceCatalog()).list(
            status=RecommendationStatus.ACTIVE, sort_by="savings", limit=100_000
        )
        total = sum((r.estimated_savings_monthly or Decimal(0) for r in rows), Decimal(0))
        best = [(r.title, r.estimated_savings_monthly) for r in rows[:3]]
    assert rows, "the sandbox has open recommendations"
    assert (
        f"{len(rows)} open recommendations that together would save {money(total, 'USD')} a month" in answer
    )
    for title, saving in best:
        assert title in answer and money(saving, "USD") in answer
    with Session(engine) as session:
        names = account_names(session, tool_context.organization_id, (r.account_identifier for r in rows[:3]))
    assert names, "the sandbox's accounts are named"
    for row in rows[:3]:
        if row.account_identifier in names:
            assert f"({names[row.account_identifier]}, {row.risk_level} risk)" in answer, answer
    assert not re.search(r"account \d{6,}", answer), answer
    print(f"\n{question!r} -> {answer}")


@pytest.fixture
def budgets(engine: Engine, tool_context: ToolContext) -> Iterator[dict[str, uuid.UUID]]:
    """Three monthly budgets on the whole estate: far above spend, exceeded, and at risk (between the spend so
    far and the forecast, both read from the budget service at the pinned day)."""
    org = tool_context.organization_id
    service_of = lambda s: BudgetService(s, org, now=lambda: NOW, forecast_model="fast")  # noqa: E731
    spec = {"period": "monthly", "start_date": date(2030, 1, 1), "end_date": date(2032, 1, 1)}
    ids: dict[str, uuid.UUID] = {}
    try:
        with Session(engine) as session:
            service = service_of(session)
            ids["roomy"] = service.create(BudgetSpec(name="Roomy", amount=Decimal("10000000"), **spec)).id
            session.flush()
            probe = service.evaluate(ids["roomy"], NOW.date())
            spent, forecast = probe.current_spend, probe.forecasted_spend
            assert forecast > spent > 0
            ids["over"] = service.create(
                BudgetSpec(name="Overrun", amount=(spent / 2).quantize(Decimal(1)), **spec)
            ).id
            middle = ((spent + forecast) / 2).quantize(Decimal("0.01"))
            ids["risk"] = service.create(BudgetSpec(name="Tight", amount=middle, **spec)).id
            session.commit()
        yield ids
    finally:
        with engine.begin() as connection:
            connection.execute(delete(Budget).where(Budget.organization_id == org))


@pytest.mark.parametrize("question", ["Which budgets are at risk?", "Are we over budget?"])
async def test_budgets_at_risk(
    engine: Engine, tool_context: ToolContext, budgets: dict[str, uuid.UUID], question: str
) -> None:
    answer, calls = await _ask(tool_context, question)
    assert [c["name"] for c in calls] == ["budgets_status"]
    assert calls[0]["args"]["as_of"] == "2031-02-20"
    with Session(engine) as session:
        service = BudgetService(session, tool_context.organization_id, now=lambda: NOW, forecast_model="fast")
        over = service.evaluate(budgets["over"], NOW.date())
        risk = service.evaluate(budgets["risk"], NOW.date())
        over_amount, risk_amount = service.get(budgets["over"]).amount, service.get(budgets["risk"]).amount
        session.rollback()
    assert (over.status, risk.status) == ("exceeded", "at_risk")
    assert "Of your 3 budgets, 1 is over budget and 1 is at risk of going over." in answer
    assert (
        f"Overrun has spent {money(over.current_spend, 'USD')} of its {money(over_amount, 'USD')}" in answer
    ), answer
    assert (
        f"Tight is forecast to reach {money(risk.forecasted_spend, 'USD')} against {money(risk_amount, 'USD')}"
        in answer
    ), answer
    assert "Roomy" not in answer
    if question.startswith("Are we"):
        assert answer.startswith("Yes.")
    print(f"\n{question!r} -> {answer}")


async def test_no_budgets_and_unknown_questions_get_a_short_helpful_answer(tool_context: ToolContext) -> None:
    answer, calls = await _ask(tool_context, "are we over budget?")
    assert [c["name"] for c in calls] == ["budgets_status"]
    assert answer.startswith("No budgets are set up yet")
    help_text, calls = await _ask(tool_context, "tell me a joke")
    assert calls == []
    for topic in ("last month", "why did EC2 jump yesterday", "where can we save", "are we over budget"):
        assert topic in help_text
    print(f"\n'tell me a joke' -> {help_text}")


def test_accounts_are_named_and_ids_only_tell_twins_apart() -> None:
    items = [
        {"key": "111111111111", "name": "Production"},
        {"key": "222222222222", "name": "Shared"},
        {"key": "333333333333", "name": "Shared"},
        {"key": "444444444444", "name": None},
        {"key": "Elastic Compute Cloud"},
        {"key": "111111111111", "name": "Production"},
    ]
    assert display_names(items) == [
        "Production",
        "Shared (222222222222)",
        "Shared (333333333333)",
        "444444444444",
        "Elastic Compute Cloud",
        "Production",
    ]
    assert display_names([{"account": "1", "account_name": "Dev"}], key="account", name="account_name") == [
        "Dev"
    ]
