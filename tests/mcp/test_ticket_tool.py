"""The ``recommendation_ticket`` tool through a real MCP client session on the opt-in ``tickets`` toolset, against
the strict GitHub fake: a viewer reads but may not create; an engineer creates once (the second call answers the
stored ticket without calling the tracker); the tool's hints say it writes to an outside system."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from fastmcp import Client
from fastmcp.exceptions import ToolError as McpToolError
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.ticket_settings import TicketsConfig
from cloudoptima.services.tickets import Tickets
from cloudoptima.storage.models import AuditLog, Organization, Recommendation
from cloudoptima.storage.tenancy import scope
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_mcp.toolsets import DEFAULTS
from tests.gateway.fake_trackers import GITHUB_TOKEN, REPO, FakeTrackers

KEY = Fernet.generate_key().decode()
NOW = datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
CONFIG = TicketsConfig(
    encryption_keys=(KEY,), allow_insecure_localhost=True, public_url="https://finops.example.com"
)


@pytest.fixture
def fake() -> Iterator[FakeTrackers]:
    with FakeTrackers() as server:
        yield server


@pytest.fixture
def org(engine: Engine, fake: FakeTrackers) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    org_id = uuid.uuid4()
    with Session(engine) as session:
        session.add(
            Organization(id=org_id, name=f"tickets-mcp-{org_id}", subscription_tier="free", settings={})
        )
        session.flush()
        scope(session, org_id)
        rec = Recommendation(
            organization_id=org_id, fingerprint=uuid.uuid4().hex, provider="aws", title="Stop i-7",
            rule_id="idle-stop", category="compute", risk_level="low", resource_ids=["i-7"],
            affected_resources=[], actions=[], status="active", estimated_savings_monthly=Decimal("42"),
        )  # fmt: skip
        session.add(rec)
        Tickets(session, org_id, cipher=CredentialCipher(KEY), now=lambda: NOW, allow_insecure_localhost=True).add_tracker(
            name="infra", kind="github", base_url=fake.url, project=REPO, token=GITHUB_TOKEN, login=None,
            actor=AuditActor(),
        )  # fmt: skip
        session.commit()
        rec_id = rec.id
    yield org_id, rec_id
    with Session(engine) as session:
        session.execute(delete(Organization).where(Organization.id == org_id))
        session.commit()


def _server(engine: Engine, org_id: uuid.UUID, role: str) -> Client:  # type: ignore[type-arg]
    runtime = Runtime(
        session_factory=sessionmaker(engine, expire_on_commit=False),
        now=lambda: NOW,
        tickets=CONFIG,
    )
    user = uuid.uuid4()
    identity = Identity(organization_id=org_id, role=role, principal=f"user:{user}")  # type: ignore[arg-type]
    return Client(build_server("platform", runtime, identity=identity, toolsets=["tickets"]))


async def test_ticket_tool_reads_and_creates_once(
    engine: Engine, org: tuple[uuid.UUID, uuid.UUID], fake: FakeTrackers
) -> None:
    org_id, rec_id = org
    assert "tickets" not in DEFAULTS["platform"]  # opt-in: the default tools/list stays as it was
    async with _server(engine, org_id, "viewer") as viewer:
        [tool] = await viewer.list_tools()
        assert tool.name == "recommendation_ticket"
        hints = tool.annotations
        assert hints is not None
        assert (
            hints.read_only_hint,
            hints.destructive_hint,
            hints.idempotent_hint,
            hints.open_world_hint,
        ) == (
            False,
            False,
            True,
            True,
        )
        with pytest.raises(McpToolError, match="has no ticket"):
            await viewer.call_tool("recommendation_ticket", {"recommendation_id": str(rec_id)})
        with pytest.raises(McpToolError, match="dismiss:recommendations"):
            await viewer.call_tool(
                "recommendation_ticket", {"recommendation_id": str(rec_id), "action": "create"}
            )
    assert fake.state.github == {}

    async with _server(engine, org_id, "engineer") as engineer:
        with pytest.raises(McpToolError, match="no tracker named 'jira' \\(trackers: infra\\)"):
            await engineer.call_tool(
                "recommendation_ticket",
                {"recommendation_id": str(rec_id), "action": "create", "tracker": "jira"},
            )
        made = await engineer.call_tool(
            "recommendation_ticket",
            {"recommendation_id": str(rec_id), "action": "create", "tracker": "infra"},
        )
        body = made.structured_content
        assert body is not None and body["created"] is True and body["state"] == "open"
        issue = fake.state.github[int(body["key"])]
        assert body["url"] == issue["html_url"] and "Estimated savings: 42.00 USD per month" in issue["body"]
        link = CONFIG.console_link(rec_id)
        assert link is not None and link.startswith("https://finops.example.com") and link in issue["body"]
        again = (
            await engineer.call_tool(
                "recommendation_ticket", {"recommendation_id": str(rec_id), "action": "create"}
            )
        ).structured_content
        assert again is not None and again["created"] is False and again["key"] == body["key"]
        assert len(fake.state.github) == 1  # the tracker was not called again
    async with _server(engine, org_id, "viewer") as viewer:
        read = (
            await viewer.call_tool("recommendation_ticket", {"recommendation_id": str(rec_id)})
        ).structured_content
        assert read is not None and (read["key"], read["tracker"], read["kind"]) == (
            body["key"],
            "infra",
            "github",
        )
    with Session(engine) as session:
        opened = session.scalars(
            select(AuditLog).where(
                AuditLog.organization_id == org_id, AuditLog.action == "recommendation.ticket_opened"
            )
        ).all()
        assert [row.channel for row in opened] == ["mcp"]
