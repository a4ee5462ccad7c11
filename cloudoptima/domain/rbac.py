"""Roles and permissions exactly as the seed's §6.2: viewer ⊂ analyst ⊂ engineer ⊂ finops_manager ⊂ admin."""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["viewer", "analyst", "engineer", "finops_manager", "admin"]
ROLE_ORDER: Final[tuple[Role, ...]] = ("viewer", "analyst", "engineer", "finops_manager", "admin")

_OWN: Final[dict[Role, tuple[str, ...]]] = {
    "viewer": ("read:dashboard", "read:costs", "read:resources", "read:recommendations", "read:budgets"),
    "analyst": ("read:reports", "create:reports", "export:data"),
    "engineer": (
        "write:resources",
        "write:tags",
        "dismiss:recommendations",
        "apply:low_risk_recommendations",
    ),
    "finops_manager": (
        "write:budgets",
        "write:policies",
        "apply:medium_risk_recommendations",
        "schedule:policies",
        "write:allocation",
        "write:costs",  # load cost files through the API (POST /v1/data/ingest)
    ),
    "admin": ("*",),
}

RISK_PERMISSION: Final[dict[str, str]] = {
    "low": "apply:low_risk_recommendations",
    "medium": "apply:medium_risk_recommendations",
    "high": "apply:high_risk_recommendations",
}


def permissions_for(role: Role) -> tuple[str, ...]:
    """Every permission of ``role``, including those inherited from the roles below it."""
    granted: list[str] = []
    for current in ROLE_ORDER:
        granted.extend(_OWN[current])
        if current == role:
            return tuple(granted)
    raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLE_ORDER)}")


def has_permission(role: Role, permission: str) -> bool:
    """True when ``role`` holds ``permission`` (admin holds every permission)."""
    granted = permissions_for(role)
    return "*" in granted or permission in granted


def is_role(value: str) -> bool:
    return value in ROLE_ORDER
