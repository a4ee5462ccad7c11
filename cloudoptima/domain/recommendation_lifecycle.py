"""The user lifecycle of a recommendation (#22): which transition is allowed from which status.

Stored status values (``RecommendationStatus``) are kept as they were; their lifecycle names are:

============== ================ ==========================================================================
stored         lifecycle        meaning
============== ================ ==========================================================================
active         open             found by the last run, nobody has decided yet
accepted       accepted         someone of the organisation owns it, with a due date
snoozed        snoozed          hidden until ``snoozed_until``; then open again (the caller's clock)
dismissed      dismissed        not wanted, with a reason (for good, or until ``SNOOZE_DAYS`` passed)
false_positive false positive   the rule was wrong: the same rule on the same resources is not suggested again
scheduled      applying         an approved execution is about to change the cloud
applied        applying         an execution is changing the cloud
completed      applied          the change was verified (``realised`` is measured elsewhere: #22 savings)
expired        expired          no longer found by the rule engine
============== ================ ==========================================================================

Transitions users may make (anything else is refused naming the current status): see :data:`ALLOWED_FROM`.
``scheduled``/``applied``/``completed`` are set by executions only (``services.execution_progress``), which
move ``active`` and ``accepted`` ones; ``expired`` by runs. No I/O.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from cloudoptima.domain.recommendations import RecommendationStatus as S


class Transition(StrEnum):
    """A user's lifecycle change (``wake`` is the system's: a snooze ran out)."""

    ACCEPT = "accept"
    SNOOZE = "snooze"
    DISMISS = "dismiss"
    FALSE_POSITIVE = "false_positive"
    REOPEN = "reopen"
    WAKE = "wake"


TARGET: Final[dict[Transition, S]] = {
    Transition.ACCEPT: S.ACCEPTED,
    Transition.SNOOZE: S.SNOOZED,
    Transition.DISMISS: S.DISMISSED,
    Transition.FALSE_POSITIVE: S.FALSE_POSITIVE,
    Transition.REOPEN: S.ACTIVE,
    Transition.WAKE: S.ACTIVE,
}
"""The status each transition leads to."""

ALLOWED_FROM: Final[dict[Transition, frozenset[S]]] = {
    Transition.ACCEPT: frozenset({S.ACTIVE, S.ACCEPTED, S.SNOOZED}),
    Transition.SNOOZE: frozenset({S.ACTIVE, S.ACCEPTED}),
    Transition.DISMISS: frozenset({S.ACTIVE, S.ACCEPTED, S.SNOOZED, S.EXPIRED}),
    Transition.FALSE_POSITIVE: frozenset({S.ACTIVE, S.ACCEPTED, S.SNOOZED, S.DISMISSED, S.EXPIRED}),
    Transition.REOPEN: frozenset({S.ACCEPTED, S.SNOOZED, S.DISMISSED, S.FALSE_POSITIVE}),
    Transition.WAKE: frozenset({S.SNOOZED}),
}
"""From which statuses each transition may start (``accept`` from ``accepted`` re-assigns owner/due date)."""

LIFECYCLE_NAME: Final[dict[str, str]] = {
    S.ACTIVE.value: "open",
    S.ACCEPTED.value: "accepted",
    S.SNOOZED.value: "snoozed",
    S.DISMISSED.value: "dismissed",
    S.FALSE_POSITIVE.value: "false_positive",
    S.SCHEDULED.value: "applying",
    S.APPLIED.value: "applying",
    S.COMPLETED.value: "applied",
    S.EXPIRED.value: "expired",
}
"""Lifecycle name of each stored status (see the module table)."""


class TransitionRefused(ValueError):
    """The transition is not allowed from the recommendation's current status (HTTP 409)."""

    def __init__(self, transition: Transition, current: str) -> None:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_FROM[transition]))
        super().__init__(
            f"cannot {transition.value.replace('_', ' ')} a recommendation that is {current!r} "
            f"(allowed from: {allowed})"
        )
        self.transition = transition
        self.current = current


def check(transition: Transition, current: str) -> S:
    """The status ``transition`` leads to from ``current``; :class:`TransitionRefused` when not allowed."""
    if current not in {s.value for s in ALLOWED_FROM[transition]}:
        raise TransitionRefused(transition, current)
    return TARGET[transition]
