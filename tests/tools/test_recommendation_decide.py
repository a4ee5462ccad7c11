"""``recommendation_decide`` (#22): the lifecycle over MCP as the calling user — permission, required
arguments per decision, the graph's refusal naming the current status, the history and the audit row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.rbac import Role
from cloudoptima.storage.models import AuditLog, Organization, Recommendation, User
from cloudoptima_tools import catalog
from cloudoptima_tools.cache import ResultCache
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInputError, ToolNotFoundError, ToolPermissionError, run_tool

NOW = datetime(2026, 5, 4, 9, tzinfo=UTC)
SPECS = catalog.by_name()


@pytest.fixture
def seeded(engine: Engine) -> Iterator[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    with Session(engine) as session:
        org = Organization(name=f"decide-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        user = User(
            organization_id=org.id,
            email=f"{uuid.uuid4().hex[:10]}@example.com",
            password_hash="x",
            role="admin",
        )
        rec = Recommendation(
            organization_id=org.id, fingerprint="fp-decide", rule_id="unassociated_ip", provider="aws",
            title="release", category="network", risk_level="low", resource_ids=["eip-1"], affected_resources=[],
            actions=[], status="active", estimated_savings_monthly=Decimal("3.65"), priority=Decimal(1),
        )  # fmt: skip
        session.add_all([user, rec])
        session.commit()
        ids = (org.id, user.id, rec.id)
    yield ids
    with Session(engine) as session:
        session.execute(delete(Organization).where(Organization.id == ids[0]))
        session.commit()


def _ctx(engine: Engine, org: uuid.UUID, user: uuid.UUID, role: Role = "admin") -> ToolContext:
    return ToolContext(
        organization_id=org, role=role, session_factory=sessionmaker(engine, expire_on_commit=False),
        cache=ResultCache(), now=lambda: NOW, principal=f"user:{user}",
    )  # fmt: skip


def test_decisions_over_the_tool(engine: Engine, seeded: tuple[uuid.UUID, uuid.UUID, uuid.UUID]) -> None:
    org, user, rec = seeded
    ctx, spec = _ctx(engine, org, user), SPECS["recommendation_decide"]
    base = {"recommendation_id": str(rec)}
    with pytest.raises(ToolPermissionError):
        run_tool(spec, _ctx(engine, org, user, "viewer"), {**base, "decision": "reopen"})
    with pytest.raises(ToolInputError, match="owner_user_id is required"):
        run_tool(spec, ctx, {**base, "decision": "accept", "due_date": "2026-06-01"})
    with pytest.raises(ToolInputError, match="due_date"):
        run_tool(
            spec, ctx, {**base, "decision": "accept", "owner_user_id": str(user), "due_date": "2026-05-03"}
        )
    with pytest.raises(ToolInputError, match="'active'"):
        run_tool(spec, ctx, {**base, "decision": "reopen"})
    with pytest.raises(ToolNotFoundError):
        run_tool(spec, ctx, {"recommendation_id": str(uuid.uuid4()), "decision": "reopen"})

    out = run_tool(
        spec, ctx, {**base, "decision": "accept", "owner_user_id": str(user), "due_date": "2026-06-01"}
    )
    assert (out.lifecycle, out.owner_user_id, out.due_date) == ("accepted", str(user), date(2026, 6, 1))
    listed = run_tool(SPECS["recommendations_list"], ctx, {"status": "accepted", "owner_user_id": str(user)})
    assert [i.id for i in listed.items] == [str(rec)]
    out = run_tool(spec, ctx, {**base, "decision": "snooze", "until": (NOW + timedelta(days=1)).isoformat()})
    assert out.snoozed_until == NOW + timedelta(days=1)
    later = ToolContext(**{**ctx.__dict__, "now": lambda: NOW + timedelta(days=2)})
    woken = run_tool(SPECS["recommendations_list"], later, {"status": "active"})
    assert [i.id for i in woken.items] == [str(rec)]  # a view: the snooze ended by the caller's clock
    out = run_tool(spec, ctx, {**base, "decision": "false_positive", "reason": "kept for DNS"})
    me = f"user:{user}"
    assert [(h.from_status, h.to_status, h.actor) for h in out.history] == [
        ("active", "accepted", me),
        ("accepted", "snoozed", me),
        ("snoozed", "false_positive", me),
    ]
    with Session(engine) as session:
        audit = session.scalars(
            select(AuditLog.channel).where(
                AuditLog.organization_id == org, AuditLog.action == "recommendation.false_positive"
            )
        ).all()
    assert list(audit) == ["mcp"]


def test_list_filters_owner_and_overdue_by_the_callers_clock(
    engine: Engine, seeded: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    org, user, rec = seeded
    ctx, listing = _ctx(engine, org, user), SPECS["recommendations_list"]
    accept = {"recommendation_id": str(rec), "decision": "accept", "owner_user_id": str(user)}
    run_tool(SPECS["recommendation_decide"], ctx, {**accept, "due_date": "2026-06-01"})
    mine = run_tool(listing, ctx, {"owner": "me"})  # accepted implied by an owner
    with Session(engine) as session:
        email = session.get_one(User, user).email
    assert [(i.id, i.owner, i.due_date) for i in mine.items] == [(str(rec), email, date(2026, 6, 1))]
    assert run_tool(listing, ctx, {"overdue": True}).items == []  # due 06-01, the caller's day is 05-04
    later = ToolContext(**{**ctx.__dict__, "now": lambda: datetime(2026, 6, 2, tzinfo=UTC)})
    assert [i.id for i in run_tool(listing, later, {"overdue": True}).items] == [str(rec)]
    assert [i.id for i in run_tool(listing, ctx, {"status": None}).items] == [str(rec)]  # null: every status
    with pytest.raises(ToolInputError, match="overdue: only accepted recommendations have a due date"):
        run_tool(listing, ctx, {"status": "active", "overdue": True})
    story = run_tool(
        SPECS["recommendation_history"], _ctx(engine, org, user, "viewer"), {"recommendation_id": str(rec)}
    )
    assert (story.lifecycle, story.owner, story.transitions) == ("accepted", email, 1)
    assert [(h.from_status, h.to_status, h.actor) for h in story.history] == [
        ("active", "accepted", f"user:{user}")
    ]
    with pytest.raises(ToolNotFoundError):
        run_tool(SPECS["recommendation_history"], ctx, {"recommendation_id": str(uuid.uuid4())})
    with pytest.raises(
        ToolInputError, match=r"owner: 'someone@example\.com' is not a user of the organisation"
    ):
        run_tool(listing, ctx, {"owner": "someone@example.com"})
