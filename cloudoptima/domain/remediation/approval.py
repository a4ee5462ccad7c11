"""Risk and approval: each action kind's least risk, who may approve a plan of a risk, the safety controls,
whether a plan must wait for a person (:func:`needs_approval`), and the decision a person makes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from cloudoptima.domain.rbac import RISK_PERMISSION, ROLE_ORDER, Role, has_permission
from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation.base import FrozenModel

DEFAULT_APPROVAL_TTL_SECONDS = 72 * 3600
"""A pending plan expires after 72 hours unless the request says otherwise."""

ACTION_RISK: dict[str, RiskLevel] = {
    "tag": RiskLevel.LOW,
    "untag": RiskLevel.LOW,
    "start": RiskLevel.LOW,
    "stop": RiskLevel.MEDIUM,
    "resize": RiskLevel.MEDIUM,
    "restore_disk": RiskLevel.MEDIUM,
    "snapshot_and_delete_disk": RiskLevel.HIGH,
    "delete_snapshot": RiskLevel.HIGH,
    "release_ip": RiskLevel.HIGH,
}
"""The least risk of each provider action kind (deletions cannot be fully undone: high)."""

_RISK_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


def highest_risk(*levels: RiskLevel) -> RiskLevel:
    """The riskiest of ``levels`` (low when none)."""
    return max(levels, key=_RISK_RANK.__getitem__, default=RiskLevel.LOW)


def can_approve(role: str, risk: RiskLevel) -> bool:
    """True when ``role`` holds the apply permission of ``risk`` (unknown roles never can)."""
    if role not in ROLE_ORDER:
        return False
    typed: Role = role  # type: ignore[assignment]
    return has_permission(typed, RISK_PERMISSION[risk.value])


def approver_roles(risk: RiskLevel) -> list[str]:
    """The roles allowed to approve a plan of ``risk``, lowest first."""
    return [role for role in ROLE_ORDER if can_approve(role, risk)]


class SafetyControls(FrozenModel):
    """Seed ``safety_controls``: approval, dry run first, blast-radius cap, rollback on failure."""

    require_approval: bool = True
    dry_run_first: bool = True
    max_resources_per_execution: int = Field(default=25, ge=1, le=10_000)
    rollback_enabled: bool = True


def needs_approval(
    requested: bool,
    safety: SafetyControls,
    requester_role: str,
    risk: RiskLevel,
    *,
    reversible: bool,
    auto_approve_low_risk: bool,
) -> bool:
    """Whether a person must approve (see the package contract): always, unless the organisation allows automatic
    approval (``auto_approve_low_risk``), ``risk`` is low, the plan is ``reversible`` (every step has a
    rollback), neither the request nor the safety controls ask for approval and the requester could approve
    a plan of ``risk`` themself."""
    automatic = (
        auto_approve_low_risk
        and risk is RiskLevel.LOW
        and reversible
        and not requested
        and not safety.require_approval
        and can_approve(requester_role, risk)
    )
    return not automatic


class Approver(FrozenModel):
    """Who decides: the user id, their role (seed §6.2) and e-mail."""

    user_id: str = Field(min_length=1)
    role: str
    email: str = ""


class Decision(FrozenModel):
    """An approval or rejection and where it came from: ``rest``, ``mcp``, ``temporal_ui`` (a signal), or the
    older generic ``update`` / ``signal``."""

    approved: bool
    comment: str = ""
    approver: Approver
    decided_at: datetime
    channel: Literal["rest", "mcp", "temporal_ui", "update", "signal"] = "update"
