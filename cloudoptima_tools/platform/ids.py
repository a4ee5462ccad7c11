"""Ids the platform tools accept: an unparsable id is reported exactly like an unknown one."""

from __future__ import annotations

import uuid

from cloudoptima_tools.spec import ToolNotFoundError


def parse_id(value: str, what: str) -> uuid.UUID:
    """``value`` as a UUID; anything else raises :class:`ToolNotFoundError` naming ``what``."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ToolNotFoundError(f"{what} {value!r} not found") from exc
