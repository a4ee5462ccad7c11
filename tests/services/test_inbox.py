"""The in-app inbox service against Postgres: idempotent posts announced after commit, keyset paging,
unread counts, read marks confined to the caller, and the default approval and budget notices."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.budgets import AlertEvent, NotificationType
from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.services.inbox import (
    Inbox,
    InboxError,
    NotificationNotFound,
    approval_channel_link,
    approval_link,
    notify_budget_alerts,
    notify_pending_approval,
)
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Organization, PolicyExecution, User
from cloudoptima.storage.tenancy import tenant_session

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
NOTICE = InboxNotice(event_type="test.notice", severity="info", title="Hello", summary="s", link="/v1/x")


@dataclass
class Recorder:
    events: list[tuple[uuid.UUID, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any]) -> int:
        self.events.append((organization_id, event_type, dict(data)))
        return 1


@dataclass
class Tenant:
    id: uuid.UUID
    users: dict[str, uuid.UUID]


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def tenants(factory: sessionmaker[Session]) -> Iterator[tuple[Tenant, Tenant]]:
    made: list[Tenant] = []
    with factory() as session, session.begin():
        for name in ("inbox-a", "inbox-b"):
            org = Organization(name=name, settings={})
            session.add(org)
            session.flush()
            users = {}
            for role in ("viewer", "engineer", "admin", "finops_manager"):
                user = User(
                    organization_id=org.id,
                    email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                    password_hash="x",
                    role=role,
                )
                session.add(user)
                session.flush()
                users[role] = user.id
            made.append(Tenant(org.id, users))
    yield made[0], made[1]
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id.in_([t.id for t in made])))


def test_post_is_idempotent_and_announced_once_after_commit(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    publish = Recorder()
    users = [org.users["viewer"], org.users["admin"]]
    with tenant_session(factory, org.id) as session:
        first = Inbox(session, org.id, publish=publish).post(users, NOTICE, idempotency_key="k1", now=NOW)
        assert publish.events == []  # nothing before the commit
    assert [e[1] for e in publish.events] == ["notifications", "notifications"]
    assert {e[2]["user_id"] for e in publish.events} == {str(u) for u in users}
    assert publish.events[0][2]["notification"]["title"] == "Hello"
    with tenant_session(factory, org.id) as session:
        again = Inbox(session, org.id, publish=publish).post(
            users, NOTICE, idempotency_key="k1", now=NOW + timedelta(hours=1)
        )
    assert [i.id for i in again] == [i.id for i in first] and again[0].created_at == NOW
    assert len(publish.events) == 2  # the repeat announced nothing
    with tenant_session(factory, org.id) as session:
        assert Inbox(session, org.id).unread_count(org.users["viewer"]) == 1


def test_a_rolled_back_post_announces_nothing(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    publish = Recorder()

    def post_then_fail() -> None:
        with tenant_session(factory, org.id) as session:
            Inbox(session, org.id, publish=publish).post(
                [org.users["admin"]], NOTICE, idempotency_key="gone", now=NOW
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        post_then_fail()
    with tenant_session(factory, org.id) as session:
        assert Inbox(session, org.id).unread_count(org.users["admin"]) == 0
    assert publish.events == []


def test_paging_newest_first_and_unread_filter(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    me = org.users["engineer"]
    with tenant_session(factory, org.id) as session:
        inbox = Inbox(session, org.id)
        for n in range(5):
            notice = NOTICE.model_copy(update={"title": f"n{n}"})
            inbox.post([me], notice, idempotency_key=f"p{n}", now=NOW + timedelta(minutes=n % 3))
        seen: list[str] = []
        cursor = None
        while True:
            page = inbox.list(me, limit=2, cursor=cursor)
            seen += [i.title for i in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        times = [i.created_at for i in inbox.list(me, limit=10).items]
        assert len(seen) == 5 == len(set(seen)) and times == sorted(times, reverse=True)
        target = inbox.list(me, limit=10).items[0]
        inbox.mark_read(me, [target.id], now=NOW)
        unread = inbox.list(me, unread_only=True, limit=10).items
        assert target.id not in {i.id for i in unread} and len(unread) == 4
        assert inbox.unread_count(me) == 4
        assert inbox.mark_all_read(me, now=NOW) == 4 and inbox.unread_count(me) == 0
        with pytest.raises(InboxError) as bad:
            inbox.list(me, cursor="not-a-cursor")
        assert bad.value.field == "cursor"
        with pytest.raises(InboxError) as bad:
            inbox.list(me, limit=0)
        assert bad.value.field == "limit"


def test_read_marks_and_lists_are_confined_to_the_user_and_organisation(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, other = tenants
    with tenant_session(factory, org.id) as session:
        mine = Inbox(session, org.id).post([org.users["viewer"]], NOTICE, idempotency_key="m", now=NOW)[0]
        colleague = Inbox(session, org.id).post([org.users["admin"]], NOTICE, idempotency_key="c", now=NOW)[0]
    with tenant_session(factory, org.id) as session:
        inbox = Inbox(session, org.id)
        with pytest.raises(NotificationNotFound):
            inbox.mark_read(org.users["viewer"], [mine.id, colleague.id], now=NOW)
        assert inbox.unread_count(org.users["viewer"]) == 1  # nothing was marked
        assert [i.id for i in inbox.list(org.users["viewer"]).items] == [mine.id]
        with pytest.raises(InboxError) as bad:  # a user of another organisation cannot be addressed
            inbox.post([other.users["admin"]], NOTICE, idempotency_key="x", now=NOW)
        assert bad.value.field == "user_ids"
    with tenant_session(factory, other.id) as session:
        inbox = Inbox(session, other.id)
        with pytest.raises(NotificationNotFound):
            inbox.mark_read(other.users["admin"], [colleague.id], now=NOW)
        assert inbox.list(org.users["admin"]).items == []
        assert inbox.unread_count(org.users["admin"]) == 0
        assert inbox.mark_all_read(org.users["admin"], now=NOW) == 0
    with tenant_session(factory, org.id) as session:
        assert Inbox(session, org.id).unread_count(org.users["admin"]) == 1


def test_bad_notices_and_keys_are_refused_naming_the_field(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    with pytest.raises(ValidationError, match="event_type"):
        InboxNotice(event_type="Bad Type", title="t")
    with pytest.raises(ValidationError, match="link"):
        InboxNotice(event_type="a.b", title="t", link="javascript:alert(1)")
    with tenant_session(factory, org.id) as session:
        with pytest.raises(InboxError) as bad:
            Inbox(session, org.id).post([org.users["admin"]], NOTICE, idempotency_key="", now=NOW)
        assert bad.value.field == "idempotency_key"
        with pytest.raises(InboxError) as bad:
            Inbox(session, org.id).post(
                [org.users["admin"]], NOTICE, idempotency_key="k", now=NOW.replace(tzinfo=None)
            )
        assert bad.value.field == "now"


def _pending(session: Session, org: uuid.UUID, status: str = "pending_approval") -> uuid.UUID:
    row = PolicyExecution(
        organization_id=org,
        status=status,
        workflow_id=f"remediation-{uuid.uuid4()}",
        kind="recommendation",
        risk_level="medium",
        plan={
            "title": "Stop idle instance",
            "approver_roles": ["finops_manager", "admin"],
            "impact": {"savings": "42.50"},
        },
        expires_at=NOW + timedelta(days=1),
    )
    session.add(row)
    session.flush()
    return row.id


def test_a_pending_approval_reaches_its_approvers_once(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    publish = Recorder()
    with tenant_session(factory, org.id) as session:
        execution = _pending(session, org.id)
        done = _pending(session, org.id, status="completed")
    for _ in range(2):  # a retried record activity
        with tenant_session(factory, org.id) as session:
            posted = notify_pending_approval(
                session,
                org.id,
                execution,
                now=NOW,
                publish=publish,
                console_url="https://finops.example.com/",
            )
            assert {i.user_id for i in posted} == {org.users["finops_manager"], org.users["admin"]}
            assert notify_pending_approval(session, org.id, done, now=NOW) == []
    assert len(publish.events) == 2
    with tenant_session(factory, org.id) as session:
        inbox = Inbox(session, org.id)
        item = inbox.list(org.users["admin"]).items[0]
        assert item.link == f"https://finops.example.com/approvals/{execution}"
        assert item.event_type == "approval.pending"
        assert item.summary == (
            "medium-risk remediation waiting for approval; saves 42.50 per month; expires 2026-06-02 12:00 UTC"
        )
        assert inbox.list(org.users["engineer"]).items == []  # cannot approve: not told
        assert inbox.list(org.users["viewer"]).items == []
    assert approval_link(execution, None) == f"/v1/executions/{execution}"
    assert approval_channel_link(execution, None, "http://127.0.0.1:8000") == (
        f"http://127.0.0.1:8000/v1/executions/{execution}"
    )
    assert approval_channel_link(execution, "https://finops.example.com", "http://127.0.0.1:8000") == (
        f"https://finops.example.com/approvals/{execution}"
    )
    assert approval_channel_link(execution, None, None) is None


def test_fired_budget_thresholds_reach_the_admins_once_per_period(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    budget = uuid.uuid4()
    fired = [
        AlertEvent(
            threshold=Decimal(80),
            type=NotificationType.ACTUAL,
            spend=Decimal("812.40"),
            limit=Decimal(1000),
            fired_at=NOW,
        )
    ]
    for period in (date(2026, 6, 1), date(2026, 6, 1), date(2026, 7, 1)):
        with tenant_session(factory, org.id) as session:
            notify_budget_alerts(
                session,
                org.id,
                budget_id=budget,
                budget_name="Platform",
                period_start=period,
                fired=fired,
                now=NOW,
            )
    with tenant_session(factory, org.id) as session:
        items = Inbox(session, org.id).list(org.users["admin"]).items
        assert len(items) == 2 and {i.payload["period_start"] for i in items} == {"2026-06-01", "2026-07-01"}
        assert "812.40" in items[0].summary and items[0].severity == "warning"
        assert Inbox(session, org.id).list(org.users["finops_manager"]).items == []
        # headless (no console): the inbox links to the budget in the API
        assert {i.link for i in items} == {f"/v1/budgets/{budget}"}

    # with the console: its budgets page, for the inbox (channel links are checked in test_notice_links)
    other = uuid.uuid4()
    with tenant_session(factory, org.id) as session:
        [posted] = notify_budget_alerts(
            session,
            org.id,
            budget_id=other,
            budget_name="Data",
            period_start=date(2026, 6, 1),
            fired=fired,
            now=NOW,
            console_url="https://finops.example.com/",
            public_url="http://127.0.0.1:8000",
        )
    assert posted.link == "https://finops.example.com/budgets"
