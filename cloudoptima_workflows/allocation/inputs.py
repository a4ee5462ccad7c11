"""Inputs and results of re-allocation (pydantic messages, see ``cloudoptima_workflows.message``)."""

from __future__ import annotations

from datetime import date

from cloudoptima_workflows.message import Message

REALLOCATE_COSTS_WORKFLOW = "ReallocateCosts"


def reallocate_workflow_id(organization_id: str, dimension_id: str, version: int) -> str:
    """One workflow id per (dimension, version): starting it twice reuses the run (idempotent start)."""
    return f"reallocate-{organization_id}-{dimension_id}-v{version}"


class ReallocateInput(Message):
    organization_id: str
    dimension_id: str
    version: int


class MonthInput(Message):
    organization_id: str
    dimension_id: str
    version: int
    month: date


class MonthResult(Message):
    rows: int


class ActivateResult(Message):
    active: bool


class ReallocateResult(Message):
    months: int
    rows: int
    active: bool
