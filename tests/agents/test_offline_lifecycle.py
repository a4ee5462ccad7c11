"""The offline chat answers "which recommendations are accepted and who owns them" and "what happened to
recommendation X" from the lifecycle tools (#22), through the real chat graph on a pinned clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.services.audit import AuditActor
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.storage.models import Organization, Recommendation, User
from cloudoptima_agents.chat.service import stream_turn
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_agents.toolkit import chat_tools
from cloudoptima_tools.catalog import catalog
from cloudoptima_tools.context import ToolContext

NOW = datetime(2026, 5, 4, 9, tzinfo=UTC)


@pytest.fixture
def decided(engine: Engine) -> Iterator[tuple[ToolContext, str, list[uuid.UUID]]]:
    """Three recommendations: two accepted by one owner (one overdue at NOW), one snoozed then reopened."""
    with Session(engine) as session:
        org = Organization(name=f"chat-lc-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        email = f"ana-{uuid.uuid4().hex[:6]}@example.com"
        owner = User(organization_id=org.id, email=email, password_hash="-", role="engineer")
        recs = [
            Recommendation(
                organization_id=org.id, fingerprint=f"fp-{name}", rule_id="idle_vm", provider="aws", title=name,
                category="compute", risk_level="low", resource_ids=[name], affected_resources=[], actions=[],
                status="active", estimated_savings_monthly=Decimal(amount), priority=Decimal(1),
            )
            for name, amount in (("Stop web-1", "40.00"), ("Stop web-2", "12.50"), ("Delete disk-9", "3.00"))
        ]  # fmt: skip
        session.add_all([owner, *recs])
        session.flush()
        past = RecommendationLifecycle(session, org.id, now=lambda: NOW - timedelta(days=10))
        actor = AuditActor(channel="rest", actor=f"user:{owner.id}", user_id=owner.id)
        past.accept(recs[0].id, owner_user_id=owner.id, due_date=date(2026, 5, 1), actor=actor)
        past.snooze(recs[2].id, until=NOW - timedelta(days=8), actor=actor, reason="change freeze")
        lifecycle = RecommendationLifecycle(session, org.id, now=lambda: NOW)
        lifecycle.accept(recs[1].id, owner_user_id=owner.id, due_date=date(2026, 6, 30), actor=actor)
        lifecycle.wake_snoozed()
        lifecycle.false_positive(recs[2].id, "kept for DNS", actor=actor)
        session.commit()
        ctx = ToolContext(
            organization_id=org.id, role="viewer", session_factory=sessionmaker(engine, expire_on_commit=False),
            principal=f"user:{owner.id}", now=lambda: NOW,
        )  # fmt: skip
        ids = [r.id for r in recs]
    yield ctx, email, ids
    with Session(engine) as session:
        session.execute(delete(Organization).where(Organization.id == ctx.organization_id))
        session.commit()


async def _ask(ctx: ToolContext, question: str) -> tuple[str, list[dict[str, Any]]]:
    events = [
        e
        async for e in stream_turn(
            OfflineChatModel(now=lambda: NOW), chat_tools(ctx, catalog()), InMemorySaver(),
            organization_id=ctx.organization_id, user_id=uuid.uuid4(), conversation_id="lc", message=question,
        )
    ]  # fmt: skip
    assert events[-1].event == "done", events
    message = next(e.data for e in events if e.event == "message")
    calls = [e.data for e in events if e.event == "tool_call"]
    for token in ("{", "}", "[", "]", '":', "recommendation_history", "recommendations_list"):
        assert token not in message["text"], (token, message["text"])
    return str(message["text"]), calls


async def test_which_recommendations_are_accepted_and_who_owns_them(
    decided: tuple[ToolContext, str, list[uuid.UUID]],
) -> None:
    ctx, email, _ids = decided
    answer, calls = await _ask(ctx, "Which recommendations are accepted and who owns them?")
    assert [(c["name"], c["args"]["status"]) for c in calls] == [("recommendations_list", "accepted")]
    assert answer.startswith("2 recommendations are accepted, together worth 52.50 USD a month.")
    assert f"{email} owns Stop web-1 (due 2026-05-01, overdue); Stop web-2 (due 2026-06-30)" in answer
    late, _calls = await _ask(ctx, "Which accepted recommendations are overdue?")
    assert late.startswith("1 recommendation is accepted, together worth 40.00 USD a month."), late


async def test_what_happened_to_a_recommendation(decided: tuple[ToolContext, str, list[uuid.UUID]]) -> None:
    ctx, _email, ids = decided
    answer, calls = await _ask(ctx, f"What happened to recommendation {ids[2]}?")
    assert [c["name"] for c in calls] == ["recommendation_history"]
    assert answer.startswith("The recommendation Delete disk-9 is false positive."), answer
    assert "on 2026-04-24 " in answer and "from open to snoozed because change freeze" in answer
    assert "on 2026-05-04 system moved it from snoozed to open because snooze ended" in answer
    assert "from open to false positive because kept for DNS." in answer
