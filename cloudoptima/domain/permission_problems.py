"""A read that a connected account's credentials were not allowed to make (issue #15: never a silent gap).

Collection records one :class:`PermissionProblem` per (step, permission) it was denied: the cloud's own name
of the permission and what the read was for. The account shows them (``status = 'degraded'``,
``permission_problems`` on ``GET /v1/cloud-accounts``) until a later collection no longer meets them.

``step`` is the collection step (``costs``, ``inventory``, ``utilisation``, ``iam``) or ``verify`` (the
connection-time check); ``purpose`` says what the denied read would have given, e.g. ``"costs"`` or
``"utilisation of 12 instances"``; :attr:`PermissionProblem.message` is the sentence shown to people.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Step = Literal["verify", "costs", "inventory", "utilisation", "iam", "forecast"]


class PermissionProblem(BaseModel):
    """One permission a step was denied, and what for."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    step: Step
    permission: str
    purpose: str

    @property
    def message(self) -> str:
        return f"missing permission {self.permission} for {self.purpose}"

    def as_json(self) -> dict[str, Any]:
        """The stored / served form (with the message)."""
        return {**self.model_dump(), "message": self.message}


def distinct(problems: Iterable[PermissionProblem]) -> list[PermissionProblem]:
    """``problems`` without repeats, in first-seen order."""
    return list(dict.fromkeys(problems))


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``"1 instance"`` / ``"12 instances"``."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
