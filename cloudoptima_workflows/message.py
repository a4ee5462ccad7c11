"""The base of every message a workflow or activity sends or receives (``cloudoptima_workflows.connection``).

A :class:`Message` is an immutable pydantic model: Temporal's pydantic data converter writes it as JSON and
reads it back as the type the receiving signature names. Unknown fields are ignored on reading, so a history
written before a field was removed still replays; a new field needs a default for the same reason.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Message"]


class Message(BaseModel):
    """An immutable message between workflows, activities and clients (``model_copy(update=…)`` copies)."""

    model_config = ConfigDict(frozen=True)
