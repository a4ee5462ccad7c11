"""What the caller may do, from ARM's permissions API (no change is made).

``GET {scope}/providers/Microsoft.Authorization/permissions`` returns the caller's effective
``actions``/``notActions`` at a scope (all role assignments that apply there, inherited ones included).
An action is allowed when one entry's ``actions`` matches it (``*`` wildcards, case-insensitive) and the same
entry's ``notActions`` does not. Deny assignments are not reflected by this API.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from cloudoptima.clouds.azure.session import AUTHORIZATION_API_VERSION, AzureSession


def effective_permissions(session: AzureSession, scope: str) -> list[tuple[list[str], list[str]]]:
    """(actions, notActions) of every permission entry the caller holds at ``scope``."""
    path = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/permissions"
    return [
        ([str(a) for a in entry.get("actions") or []], [str(a) for a in entry.get("notActions") or []])
        for entry in session.arm_pages(path, AUTHORIZATION_API_VERSION)
    ]


def allows(entries: list[tuple[list[str], list[str]]], action: str) -> bool:
    """Whether ``action`` is granted by ``entries`` (see module docstring)."""
    wanted = action.lower()

    def hit(patterns: Iterable[str]) -> bool:
        return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in patterns)

    return any(hit(actions) and not hit(not_actions) for actions, not_actions in entries)


def missing(session: AzureSession, scope: str, actions: Iterable[str]) -> list[str]:
    """The subset of ``actions`` the caller lacks at ``scope``, in the given order."""
    entries = effective_permissions(session, scope)
    return [action for action in actions if not allows(entries, action)]
