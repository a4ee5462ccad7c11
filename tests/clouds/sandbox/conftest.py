"""Fixtures: one small persisted sandbox estate per session, copied into a fresh state dir per test.

The estate (seed 7, 3 accounts: AWS, Azure, GCP; 30 days ending 2026-01-01) is generated once; each test
gets its own copy so actions never leak between tests. ``CLOCK`` is nine days after the window, so every
provider here lives past the generated window.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cloudoptima.clouds.sandbox import Estate
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import InstanceAttributes, Resource, ResourceKind, ResourceState

SEED, ACCOUNTS, DAYS, END = 7, 3, 30, date(2026, 1, 1)
CLOCK = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def fixed(moment: datetime) -> Callable[[], datetime]:
    """A clock that always says ``moment``."""
    return lambda: moment


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("sandbox-template")
    SandboxEstateStore.create(state, seed=SEED, accounts=ACCOUNTS, days=DAYS, end=END)
    return state


@pytest.fixture
def state_dir(template_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "state"
    shutil.copytree(template_dir, target)
    return target


@pytest.fixture
def estate(state_dir: Path) -> Estate:
    return SandboxEstateStore.open(state_dir).estate()


@pytest.fixture
def account_id(estate: Estate) -> str:
    return estate.accounts[0].account_id


@pytest.fixture
def provider(state_dir: Path, account_id: str) -> SandboxProvider:
    return SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))


def running_instance(estate: Estate, account_id: str, *, shrinkable: bool = False) -> Resource:
    """An always-on running instance of the account (one with a smaller size if ``shrinkable``)."""
    from cloudoptima.clouds.sandbox import catalog

    for resource in estate.account_resources(account_id):
        attributes = resource.attributes
        if (
            resource.kind is ResourceKind.COMPUTE_INSTANCE
            and resource.state is ResourceState.RUNNING
            and isinstance(attributes, InstanceAttributes)
            and attributes.schedule == "always"
            and (not shrinkable or catalog.next_smaller(resource.provider, attributes.instance_type))
        ):
            return resource
    raise AssertionError(f"no running instance in {account_id}")


def unattached_disk(estate: Estate, account_id: str) -> Resource:
    """A live disk of the account attached to nothing."""
    return next(
        r
        for r in estate.account_resources(account_id)
        if r.kind is ResourceKind.DISK
        and r.state is ResourceState.AVAILABLE
        and getattr(r.attributes, "attached_to", "x") is None
    )
