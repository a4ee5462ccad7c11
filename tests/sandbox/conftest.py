"""Shared fixtures: the default demo estate (seed 42, 6 accounts, 120 days) and its files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudoptima.clouds.sandbox import Estate, generate_estate, write_estate


@pytest.fixture(scope="session")
def estate() -> Estate:
    return generate_estate(42)


@pytest.fixture(scope="session")
def written(estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("estate")
    write_estate(estate, out)
    return out
