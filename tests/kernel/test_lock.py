"""The lock files are what the tests run against: complete, hashed, consistent with pyproject.toml.

A fresh clone installs ``requirements/dev.lock`` (``make test``) or ``runtime.lock`` (``make demo``); if
someone edits ``pyproject.toml`` without ``make lock``, or an install drifted from the lock, this fails and
names the package.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _lock(name: str) -> dict[str, tuple[Version, int]]:
    """``{package: (version, number of hashes)}`` of ``requirements/<name>.lock``."""
    pins: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for line in (ROOT / "requirements" / f"{name}.lock").read_text().splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = (Version(match.group(2)), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def _project() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"runtime": data["dependencies"], "dev": data["optional-dependencies"]["dev"]}


@pytest.mark.parametrize("lock", ["runtime", "dev"])
def test_every_declared_requirement_is_pinned_within_its_range(lock: str) -> None:
    pins = _lock(lock)
    declared = _project()["runtime"] + (_project()["dev"] if lock == "dev" else [])
    problems = []
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement.name} is not in requirements/{lock}.lock (run `make lock`)")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{requirement.name}=={pins[name][0]} does not satisfy {requirement.specifier}")
    assert problems == []


def test_every_pin_is_hashed_and_dev_agrees_with_runtime() -> None:
    runtime, dev = _lock("runtime"), _lock("dev")
    assert [name for name, (_v, hashes) in {**runtime, **dev}.items() if hashes == 0] == []
    assert {n: v for n, (v, _h) in runtime.items() if dev.get(n, (v, 0))[0] != v} == {}
    assert set(runtime) <= set(dev)
    assert _lock("bootstrap")["uv"][0] == dev["uv"][0]


def test_the_running_environment_is_the_dev_lock() -> None:
    drift = {}
    for name, (version, _hashes) in _lock("dev").items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            drift[name] = "missing"
            continue
        if installed != version:
            drift[name] = f"{installed} installed, {version} locked"
    assert drift == {}, "install with `make install-dev` (uv pip sync of requirements/dev.lock)"
