"""The input lines several report templates share: a breakdown line compared with the previous period, and one
day's actual cost. Strict, frozen pydantic models (inputs are built by services, never by hand)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class SpendLine(_Input):
    """One line of a breakdown: its label as people read it (account name and id, service, region, tag value —
    the untagged remainder is a line too, e.g. ``(untagged)``), its cost this period and the previous period."""

    label: str = Field(min_length=1)
    cost: Decimal
    previous_cost: Decimal = Decimal(0)


class DailySpend(_Input):
    """The actual cost of one day of the period."""

    date: date
    cost: Decimal
