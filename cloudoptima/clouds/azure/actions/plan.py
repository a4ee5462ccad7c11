"""What an Azure action would do (:class:`Plan`), the resource type each action targets, and the planner shape.

A planner reads the target (read-only) and returns a :class:`Plan` whose ``run`` performs the change; the
runner (:mod:`cloudoptima.clouds.azure.actions.runner`) checks permissions and calls ``run`` at most once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudoptima.clouds.azure import ids
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import ActionKind, ActionRequest, RollbackPlan

VM = "Microsoft.Compute/virtualMachines"
DRY_RUN = "dry-run"
TYPES: dict[ActionKind, str] = {
    ActionKind.STOP: VM,
    ActionKind.START: VM,
    ActionKind.RESIZE: VM,
    ActionKind.SNAPSHOT_AND_DELETE_DISK: "Microsoft.Compute/disks",
    ActionKind.RESTORE_DISK: "Microsoft.Compute/disks",
    ActionKind.DELETE_SNAPSHOT: "Microsoft.Compute/snapshots",
    ActionKind.RELEASE_IP: "Microsoft.Network/publicIPAddresses",
}
POLL = "Microsoft.Compute/locations/operations/read"


@dataclass
class Plan:
    """What an action would do: needed permissions, blocking problems, current state, rollback, runner."""

    permissions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    rollback: RollbackPlan | None = None
    run: Callable[[], dict[str, Any]] | None = None
    scope: str | None = None
    """Where permissions are checked (default: the resource itself)."""


Planner = Callable[[AzureSession, ActionRequest, ids.ArmId, str], Plan]
"""``(session, request, parsed target id, idempotency key or DRY_RUN) -> Plan``; reads, never changes."""
