"""``audit_log`` over MCP: an admin reads the organisation's rows in keyset pages cut to the tool's budget
(every row exactly once), other roles are refused, and another organisation's rows never appear."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from sqlalchemy import Engine, delete
from sqlalchemy.orm import sessionmaker

from cloudoptima.storage.models import AuditLog, Organization
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_tools.audit import BUDGET, AuditLogOutput
from cloudoptima_tools.spec import estimate_tokens

ROWS = 120
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def orgs(engine: Engine) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """Two organisations; the first with ``ROWS`` bulky audit rows (some sharing a timestamp), the second
    with one row."""
    factory = sessionmaker(engine)
    with factory() as session, session.begin():
        mine, theirs = Organization(name="audit-tool", settings={}), Organization(name="other", settings={})
        session.add_all([mine, theirs])
        session.flush()
        ids = (mine.id, theirs.id)
        session.add_all(
            AuditLog(
                organization_id=mine.id,
                user_id=None,
                timestamp=T0 + timedelta(minutes=i // 3),  # three rows per instant: ties break on id
                action=f"probe.{i}",
                details={"arguments": {"note": "z" * 190, "list": ["y" * 190] * 12}},
                result="success",
                channel="rest",
                actor="system",
            )
            for i in range(ROWS)
        )
        session.add(
            AuditLog(
                organization_id=theirs.id,
                user_id=None,
                timestamp=T0,
                action="their.probe",
                details={},
                result="success",
                channel="rest",
                actor="system",
            )
        )
    yield ids
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id.in_(ids)))


def _server(engine: Engine, org: uuid.UUID, role: str) -> object:
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False))
    identity = Identity(organization_id=org, role=role, principal=f"user:{uuid.uuid4()}")  # type: ignore[arg-type]
    return build_server("platform", runtime, identity=identity)


async def test_pages_fit_the_budget_and_cover_every_row_once(
    engine: Engine, orgs: tuple[uuid.UUID, uuid.UUID]
) -> None:
    mine, _theirs = orgs
    seen: list[str] = []
    truncated = False
    arguments: dict[str, object] = {"limit": 500, "until": (T0 + timedelta(days=1)).isoformat()}
    async with Client(_server(engine, mine, "admin")) as client:  # type: ignore[arg-type]
        while True:
            result = await client.call_tool("audit_log", arguments)
            page = AuditLogOutput.model_validate(result.structured_content)
            assert estimate_tokens(page.model_dump_json()) <= BUDGET
            truncated |= page.truncated_for_size
            seen += [row.action for row in page.items]
            if page.next_cursor is None:
                break
            arguments["cursor"] = page.next_cursor
    assert truncated
    assert sorted(seen) == sorted(f"probe.{i}" for i in range(ROWS)) and len(set(seen)) == ROWS
    assert seen[0] in {f"probe.{i}" for i in range(ROWS - 3, ROWS)}  # newest first
    for role in ("viewer", "finops_manager"):
        async with Client(_server(engine, mine, role)) as client:  # type: ignore[arg-type]
            with pytest.raises(ToolError, match="lacks permission 'read:audit_logs'"):
                await client.call_tool("audit_log", {})
