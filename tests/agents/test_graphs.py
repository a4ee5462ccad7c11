"""Graphs with a scripted tool-calling model and the offline narrator, over a real sandbox organisation."""

from __future__ import annotations

import uuid
from decimal import Decimal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.storage.models import Anomaly, Recommendation
from cloudoptima_agents import grounding
from cloudoptima_agents.chat.graph import build_graph as build_chat
from cloudoptima_agents.narrator import narrate_recommendation
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_agents.root_cause import explain_and_store
from cloudoptima_agents.toolkit import chat_tools
from cloudoptima_tools.catalog import catalog
from cloudoptima_tools.context import ToolContext
from tests.agents.scripted import ScriptedChatModel


def _biggest_anomaly(session: Session, org: uuid.UUID) -> Anomaly:
    row = session.scalars(
        select(Anomaly).where(Anomaly.organization_id == org).order_by(Anomaly.impact_amount.desc())
    ).first()
    assert row is not None, "the sandbox planted no anomaly the detector found"
    return row


def test_offline_root_cause_is_grounded_and_stored(
    db_session: Session, sandbox_org: tuple[uuid.UUID, str]
) -> None:
    org = sandbox_org[0]
    row = _biggest_anomaly(db_session, org)
    result = explain_and_store(db_session, org, row.id)
    assert result.source == "offline"
    assert result.text.startswith("[offline narrator]")
    assert grounding.check(result.text, result.evidence, ignore=["[offline narrator]"]).ok
    assert str(row.start_date) in result.text and f"{row.impact_amount:,}" in result.text
    assert result.evidence["billed_items"], "the resources behind the top cell were gathered"
    assert "What to do:" in result.text
    lines = result.text.split("\n")
    assert len(lines) >= 4 and all(len(line) < 400 for line in lines), lines  # short sentences, one a line
    for item in result.evidence["billed_items"][:4]:
        full = str(item["resource_id"])
        assert full.rsplit("/", 1)[-1] in result.text
        if "/" in full:
            assert full not in result.text, "resources are named by their last path segment"
    if row.start_date != row.end_date:
        days = (row.end_date - row.start_date).days + 1
        assert f"from {row.start_date} to {row.end_date} ({days} days)" in result.text
    db_session.refresh(row)
    assert row.root_cause == result.text


def test_root_cause_from_a_model_is_checked_and_rewritten(
    db_session: Session, sandbox_org: tuple[uuid.UUID, str]
) -> None:
    org = sandbox_org[0]
    row = _biggest_anomaly(db_session, org)
    drafts = [
        "Spend jumped by 987,654.32 USD on 2099-01-01.",
        f"Spend changed by {row.impact_amount} USD from {row.start_date}.",
    ]

    def respond(messages: list[BaseMessage], bound: list[str]) -> AIMessage:
        return AIMessage(content=drafts.pop(0))

    model = ScriptedChatModel(respond=respond)
    result = explain_and_store(db_session, org, row.id, model=model)
    assert result.source == "model"
    assert result.text == f"Spend changed by {row.impact_amount} USD from {row.start_date}."
    assert "987,654.32" in str(model.prompts[1][-1].content)
    assert "Safety rules" in str(model.prompts[0][0].content)


def test_narratives_for_every_recommendation_are_grounded(
    db_session: Session, sandbox_org: tuple[uuid.UUID, str]
) -> None:
    org = sandbox_org[0]
    rows = db_session.scalars(select(Recommendation).where(Recommendation.organization_id == org)).all()
    assert len(rows) >= 5
    for row in rows:
        result = narrate_recommendation(db_session, org, row.id)
        text = f"{result.engineer} {result.finance}"
        assert result.source == "offline"
        assert grounding.check(text, result.evidence, ignore=["[offline narrator]"]).ok, text
        assert f"{row.estimated_savings_monthly:,}" in result.finance
        assert row.resource_ids[0] in result.engineer


async def test_chat_graph_runs_tools_and_keeps_the_conversation(tool_context: ToolContext) -> None:
    def respond(messages: list[BaseMessage], bound: list[str]) -> AIMessage:
        assert "request_remediation" in bound and "search_runbooks" in bound
        last = messages[-1]
        if isinstance(last, HumanMessage):
            return AIMessage(
                content="", tool_calls=[{"name": "recommendations_list", "args": {"limit": 3}, "id": "t1"}]
            )
        assert isinstance(last, ToolMessage) and "kind=data" in str(last.content)
        turns = sum(isinstance(m, HumanMessage) for m in messages)
        return AIMessage(content=f"turn {turns}: found recommendations")

    graph = build_chat(
        ScriptedChatModel(respond=respond), chat_tools(tool_context, catalog()), InMemorySaver()
    )
    config = {"configurable": {"thread_id": "t"}}
    first = await graph.ainvoke({"messages": [HumanMessage("what can I save?")]}, config)
    second = await graph.ainvoke({"messages": [HumanMessage("and again?")]}, config)
    assert first["messages"][-1].content == "turn 1: found recommendations"
    assert second["messages"][-1].content == "turn 2: found recommendations"
    assert len(second["messages"]) == 8


async def test_offline_chat_answers_from_tool_results(tool_context: ToolContext) -> None:
    graph = build_chat(OfflineChatModel(), chat_tools(tool_context, catalog()), InMemorySaver())
    out = await graph.ainvoke(
        {"messages": [HumanMessage("Which recommendations would save the most?")]},
        {"configurable": {"thread_id": "o"}},
    )
    calls = [c["name"] for m in out["messages"] if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls == ["recommendations_list"]
    answer = out["messages"][-1].content
    assert not answer.startswith("[offline narrator]") and "recommendations_list" not in answer
    tool_output = str(out["messages"][-2].content)
    assert grounding.check(answer, tool_output).ok


def test_offline_chat_requests_a_remediation_only_when_asked(
    engine: Engine, tool_context: ToolContext
) -> None:
    from cloudoptima_agents.offline_chat import route

    schemas = [
        {
            "name": "request_remediation",
            "parameters": {
                "properties": {"recommendation_id": {"type": "string"}},
                "required": ["recommendation_id"],
            },
        },
        {"name": "recommendations_list", "parameters": {"properties": {"limit": {"type": "integer"}}}},
    ]
    rid = str(uuid.uuid4())
    assert [c["name"] for c in route(f"please apply recommendation {rid}", schemas)] == [
        "request_remediation"
    ]
    assert [c["name"] for c in route(f"tell me about recommendation {rid}", schemas)] == [
        "recommendations_list"
    ]
    assert route("delete all volumes now", schemas) == []


def test_stored_narratives_are_keyed_by_evidence_and_writer() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from cloudoptima_agents.narrator import RecommendationEvidence, narrative_key

    evidence = RecommendationEvidence(
        recommendation_id=str(uuid.uuid4()),
        title="Stop idle instance i-0abc",
        category="compute",
        risk_level="low",
        savings_monthly=Decimal("41.20"),
        savings_annual=Decimal("494.40"),
        resource_ids=["i-0abc"],
    )
    other = evidence.model_copy(update={"title": evidence.title + " (changed)"})
    model = FakeListChatModel(responses=["x"])
    assert narrative_key(evidence, None) == narrative_key(evidence, None)
    assert narrative_key(evidence, None) != narrative_key(other, None)
    assert narrative_key(evidence, None) != narrative_key(evidence, model)
