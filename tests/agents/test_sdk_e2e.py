"""End to end through the real Anthropic and OpenAI SDKs (via langchain) against the strict local fake."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from cloudoptima.settings import Settings
from cloudoptima_agents.chat.service import history, stream_turn
from cloudoptima_agents.models import chat_model, select_provider
from cloudoptima_agents.narrator import narrate
from cloudoptima_agents.narrator.evidence import RecommendationEvidence
from cloudoptima_agents.root_cause import explain_anomaly
from cloudoptima_agents.root_cause.evidence import AnomalyEvidence, Contributor
from cloudoptima_agents.toolkit import runbook_tool
from tests.agents.fake_llm import Reply, fake_llm, last_user_text, tool_results_in

KEY = "sk-test-0123456789abcdef"


def _settings(provider: str, url: str) -> Settings:
    if provider == "anthropic":
        return Settings(anthropic_api_key=KEY, llm_base_url=url, llm_model="claude-test")
    if provider == "openai":
        return Settings(openai_api_key=KEY, llm_base_url=url + "/v1", llm_model="gpt-test")
    return Settings(llm_base_url=url + "/v1", llm_api_key=KEY, llm_model="local-model")


def chat_script(body: dict[str, Any]) -> Reply:
    results = tool_results_in(body)
    if not results:
        return Reply(
            text="Let me look that up.", tool_calls=[("search_runbooks", {"query": "orphaned snapshots"})]
        )
    slug = "orphaned-snapshots" if "orphaned-snapshots" in results[-1] else "nothing"
    return Reply(text=f"Follow the runbook {slug}: check retention, then delete in batches.")


@pytest.mark.parametrize("provider", ["anthropic", "openai", "openai_compatible"])
async def test_chat_turn_streams_tool_calls_and_tokens_through_the_real_sdk(provider: str) -> None:
    with fake_llm(chat_script, api_key=KEY) as server:
        settings = _settings(provider, server.url)
        assert select_provider(settings).provider == provider
        model = chat_model(settings)
        saver = InMemorySaver()
        org, user = uuid.uuid4(), uuid.uuid4()
        events = [
            e
            async for e in stream_turn(
                model,
                [runbook_tool()],
                saver,
                organization_id=org,
                user_id=user,
                conversation_id="c1",
                message="How do I clean up orphaned snapshots?",
            )
        ]
    kinds = [e.event for e in events]
    assert "error" not in kinds, events
    calls = [e.data for e in events if e.event == "tool_call"]
    assert [c["name"] for c in calls] == ["search_runbooks"]
    assert calls[0]["args"] == {"query": "orphaned snapshots"}
    results = [e.data for e in events if e.event == "tool_result"]
    assert "Clean up orphaned snapshots" in results[0]["content"]
    tokens = "".join(e.data["text"] for e in events if e.event == "token")
    assert "Follow the runbook orphaned-snapshots" in tokens, "the answer was streamed token by token"
    assert events[-2].data["text"].startswith("Follow the runbook orphaned-snapshots")
    assert len([e for e in events if e.event == "token"]) > 5
    # the second request carried the tool result back to the vendor in its own format
    assert len(server.requests) == 2
    assert server.requests[0].body["stream"] is True
    assert "orphaned-snapshots" in tool_results_in(server.requests[1].body)[0]
    if provider == "anthropic":
        assert server.requests[0].path == "/v1/messages"
        assert "Safety rules" in json.dumps(server.requests[0].body["system"])
    else:
        assert server.requests[0].path == "/v1/chat/completions"
    stored = await history(saver, organization_id=org, user_id=user, conversation_id="c1")
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert await history(saver, organization_id=org, user_id=uuid.uuid4(), conversation_id="c1") == []


async def test_wrong_key_is_reported_as_an_error_event() -> None:
    with fake_llm(chat_script, api_key="the-right-key") as server:
        model = chat_model(_settings("openai", server.url))
        events = [
            e
            async for e in stream_turn(
                model,
                [runbook_tool()],
                InMemorySaver(),
                organization_id=uuid.uuid4(),
                user_id=uuid.uuid4(),
                conversation_id="c",
                message="hello",
            )
        ]
    assert events[-1].event == "error"
    assert "401" in events[-1].data["message"] or "AuthenticationError" in events[-1].data["message"]


def _evidence() -> AnomalyEvidence:
    return AnomalyEvidence(
        anomaly_id="a-1",
        scope={"account": "123456789012"},
        scope_label="account 123456789012",
        start_date=date(2031, 3, 4),
        end_date=date(2031, 3, 6),
        days=3,
        severity="high",
        actual_spend=Decimal("1500.00"),
        expected_spend=Decimal("300.00"),
        impact=Decimal("1200.00"),
        deviation_percent=Decimal("400.0"),
        contributors=[
            Contributor(
                dimensions={"service": "Amazon EC2", "region": "us-east-1"},
                label="service Amazon EC2, region us-east-1",
                actual=Decimal("1300.00"),
                expected=Decimal("100.00"),
                contribution=Decimal("1200.00"),
                share_percent=Decimal("100.0"),
            )
        ],
    )


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_root_cause_rejects_an_invented_number_then_accepts_a_grounded_rewrite(provider: str) -> None:
    drafts = iter(
        [
            "Spend rose by 1,900.00 USD on 2031-03-09 because of i-0deadbeef.",
            "Spend in account 123456789012 was 1,500.00 USD against 300.00 USD expected from 2031-03-04 to "
            "2031-03-06 (+1,200.00 USD, 400.0 %), all of it Amazon EC2 in us-east-1.",
        ]
    )
    with fake_llm(lambda body: Reply(text=next(drafts)), api_key=KEY) as server:
        result = explain_anomaly(_evidence(), model=chat_model(_settings(provider, server.url)))
    assert result.source == "model"
    assert result.text.startswith("Spend in account 123456789012")
    assert len(server.requests) == 2
    feedback = last_user_text(server.requests[1].body)
    assert "1,900.00" in feedback and "i-0deadbeef" in feedback and "2031-03-09" in feedback


def test_narrator_falls_back_to_the_template_when_the_model_keeps_inventing() -> None:
    evidence = RecommendationEvidence(
        recommendation_id="r-1",
        title="Stop idle instance i-0abc",
        category="idle_resources",
        risk_level="low",
        confidence_percent=Decimal("90.0"),
        savings_monthly=Decimal("70.08"),
        savings_annual=Decimal("840.96"),
        current_monthly=Decimal("70.08"),
        projected_monthly=Decimal("0.00"),
        resource_ids=["i-0abc"],
    )
    invented = json.dumps({"engineer": "Stop i-0abc.", "finance": "Saves 99.99 USD a month."})
    with fake_llm(lambda body: Reply(text=invented), api_key=KEY) as server:
        result = narrate(evidence, model=chat_model(_settings("anthropic", server.url)))
    assert len(server.requests) == 2
    assert result.source == "offline_fallback"
    assert result.finance.startswith("[offline narrator]") and "70.08" in result.finance
    assert "99.99" in result.unsupported
