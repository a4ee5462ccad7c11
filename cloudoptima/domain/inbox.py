"""What the in-app inbox holds (``cloudoptima.services.inbox``): a notice to post and a stored notice.

Contract:
- :class:`InboxNotice` is validated on construction: ``event_type`` is a lower-case dotted/underscored name
  (``approval.pending``, ``budget.alert``), ``severity`` one of :data:`SEVERITIES`, ``title`` 1-200
  characters, ``summary`` at most 2000, ``link`` (optional) an absolute ``http(s)`` URL or a path starting
  with ``/``; ``payload`` is JSON (strings for money and dates). No text field may hold a NUL character.
- :class:`InboxItem` is one stored notice as its reader sees it; ``read_at`` None means unread.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_LINK = re.compile(r"^(https?://[^\s]+|/[^\s]*)$")


class InboxNotice(BaseModel):
    """What one notice says (the same for every addressed user)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: str = Field(min_length=1, max_length=64)
    severity: Severity = "info"
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=2000)
    link: str | None = Field(default=None, max_length=2000)
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event_type")
    @classmethod
    def _event_type(cls, value: str) -> str:
        if not _EVENT_TYPE.fullmatch(value):
            raise ValueError("must be lower-case words joined by '.' (e.g. 'approval.pending')")
        return value

    @field_validator("title", "summary")
    @classmethod
    def _text(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain NUL (\\x00) characters")
        return value

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is not None and not _LINK.fullmatch(value):
            raise ValueError("must be an absolute http(s) URL or a path starting with '/'")
        return value


class InboxItem(BaseModel):
    """One notice in one user's inbox."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    user_id: uuid.UUID
    event_type: str
    severity: Severity
    title: str
    summary: str
    link: str | None
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
