"""Seeded organisations and tool contexts for the tool catalog tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from cloudoptima.domain.rbac import Role
from cloudoptima_tools.cache import ResultCache
from cloudoptima_tools.context import ToolContext
from tests.tools.seed import NOW, Estates, SeededOrg, release_estates, shared_estates


@pytest.fixture(scope="session")
def estates(engine: Engine) -> Iterator[Estates]:
    yield shared_estates(engine)
    release_estates(engine)


def context_for(engine: Engine, org: SeededOrg, role: Role = "admin") -> ToolContext:
    return ToolContext(
        organization_id=org.organization_id,
        role=role,
        session_factory=sessionmaker(engine, expire_on_commit=False),
        cache=ResultCache(),
        now=lambda: NOW,
    )


@pytest.fixture
def ctx_a(engine: Engine, estates: Estates) -> ToolContext:
    return context_for(engine, estates.a)


@pytest.fixture
def ctx_b(engine: Engine, estates: Estates) -> ToolContext:
    return context_for(engine, estates.b)
