"""The tool catalog: every tool of every domain, by name.

``catalog()`` is what MCP servers and agents register; ``for_provider`` keeps the cloud-scoped tools
(cost, compute, storage, iam) that a single-cloud server exposes.
"""

from __future__ import annotations

from typing import Any

from cloudoptima_tools import (
    allocation,
    audit,
    commitments,
    compute,
    cost,
    data_trust,
    executions,
    exports,
    iam,
    notifications,
    platform,
    remediation,
    reports,
    savings,
    storage,
    tags,
)
from cloudoptima_tools.spec import ToolSpec

_ALL: tuple[ToolSpec[Any, Any], ...] = (
    *cost.TOOLS,
    *compute.TOOLS,
    *storage.TOOLS,
    *iam.TOOLS,
    *platform.TOOLS,
    *remediation.TOOLS,
    *executions.TOOLS,
    *audit.TOOLS,
    *reports.TOOLS,
    *notifications.TOOLS,
    *tags.TOOLS,
    *data_trust.TOOLS,
    *exports.TOOLS,
    *allocation.TOOLS,
    *savings.TOOLS,
    *commitments.TOOLS,
)


def catalog(*, read_only: bool = False) -> list[ToolSpec[Any, Any]]:
    """Every tool; with ``read_only`` only those that change nothing."""
    return [spec for spec in _ALL if spec.read_only or not read_only]


def for_provider(*, read_only: bool = False) -> list[ToolSpec[Any, Any]]:
    """The cloud-scoped tools a single-cloud server lists."""
    return [spec for spec in catalog(read_only=read_only) if spec.cloud_scoped]


def by_name() -> dict[str, ToolSpec[Any, Any]]:
    return {spec.name: spec for spec in _ALL}
