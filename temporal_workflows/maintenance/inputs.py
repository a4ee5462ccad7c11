"""Inputs and results of the maintenance workflows (plain dataclasses: Temporal serialises them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CleanupInput:
    """Purge bookkeeping that expired more than ``grace_days`` ago."""

    grace_days: int = 1


@dataclass(frozen=True)
class CleanupResult:
    revoked_tokens_deleted: int
    refresh_tokens_deleted: int
