"""What the notification rules refuse: bad input (:class:`RuleError`, naming the field) and an unknown rule
(:class:`RuleNotFound`), plus :func:`require_aware`, the check every entry point makes on the caller's ``now``.
"""

from __future__ import annotations

import uuid
from datetime import datetime


class RuleError(ValueError):
    """Bad input; ``field`` names it (``scope.regions``, ``quiet_hours.timezone`` …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RuleNotFound(LookupError):
    """A rule id that is not one of the organisation's."""

    def __init__(self, rule_id: uuid.UUID) -> None:
        super().__init__(f"notification rule {rule_id} not found")
        self.rule_id = rule_id


def require_aware(now: datetime) -> datetime:
    """``now`` unchanged when it is timezone-aware; otherwise :class:`RuleError` naming ``now``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise RuleError("now", "must be timezone-aware")
    return now
