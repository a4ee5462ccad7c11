"""Shared schema pieces: money as JSON numbers, success replies, validation errors naming the field."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, PlainSerializer

CENT = Decimal("0.01")


def _money_number(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


Money = Annotated[Decimal, PlainSerializer(_money_number, return_type=float, when_used="json")]
"""Decimal in Python, a JSON number rounded to cents on the wire."""


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StrictBody(BaseModel):
    """Request bodies refuse unknown fields (a typo is a 422, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Success(Schema):
    success: bool = True


def invalid(field: str, message: str, location: str = "query") -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, naming ``field``."""
    detail: list[dict[str, Any]] = [
        {"type": "value_error", "loc": [location, field], "msg": message, "input": None}
    ]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def not_found(kind: str, identifier: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{kind} {identifier} not found")
