"""The base of every remediation and policy model: immutable, and unknown fields are refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A frozen pydantic model that forbids extra fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
