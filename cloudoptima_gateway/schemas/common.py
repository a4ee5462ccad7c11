"""Shared schema pieces: money as JSON numbers, success replies, validation errors naming the field."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, PlainSerializer, model_validator

CENT = Decimal("0.01")


def _money_number(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


Money = Annotated[Decimal, PlainSerializer(_money_number, return_type=float, when_used="json")]
"""Decimal in Python, a JSON number rounded to cents on the wire."""


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def nul_field(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value, at any depth) holding a NUL character, else None."""
    if isinstance(value, str):
        return path or "value" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return where
            found = nul_field(item, where)
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = nul_field(item, f"{path}[{index}]")
            if found:
                return found
    return None


class StrictBody(BaseModel):
    """Request bodies refuse unknown fields (a typo is a 422, not silently ignored) and NUL characters
    anywhere in their text (Postgres cannot store them; the 422 names the field)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        where = nul_field(data)
        if where:
            raise ValueError(f"field '{where}' must not contain NUL (\\x00) characters")
        return data


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
