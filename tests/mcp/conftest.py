"""MCP test fixtures: the seeded organisations and in-memory servers acting for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastmcp import FastMCP
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from tests.tools.seed import NOW, Estates, SeededOrg, release_estates, shared_estates


@pytest.fixture(scope="session")
def estates(engine: Engine) -> Iterator[Estates]:
    yield shared_estates(engine)
    release_estates(engine)


def runtime_for(engine: Engine) -> Runtime:
    return Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)


def identity_of(org: SeededOrg, role: str = "admin") -> Identity:
    return Identity(organization_id=org.organization_id, role=role, principal=f"user:{org.users[role]}")  # type: ignore[arg-type]


def server_for(
    engine: Engine, org: SeededOrg, name: str = "platform", *, role: str = "admin", read_only: bool = False
) -> FastMCP:
    return build_server(name, runtime_for(engine), identity=identity_of(org, role), read_only=read_only)


@pytest.fixture
def platform_a(engine: Engine, estates: Estates) -> FastMCP:
    return server_for(engine, estates.a)
