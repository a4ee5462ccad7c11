"""The true monthly saving of sandbox actions: what the generator's own billing says a change saves.

Contract:

- :func:`billed_monthly` of an open billing segment is the bill of an average month (365.25 / 12 days) of it:
  hourly units ``unit_price × size × 24 × 30.4375``, times 5/7 for a ``weekdays`` schedule (only weekdays
  bill); monthly units (``GB-Mo``, …) ``unit_price × size`` (a day bills ``1 / days in its month`` of it, so
  the average month bills exactly that). No open segment (stopped, deleted) bills 0.
- :func:`true_saving_monthly` is Σ over the resources the actions changed of (billed monthly of the open
  segment before − after), rounded to cents half-even: positive when the change lowers the bill. It is what
  the sandbox records with each executed action (``JournalEntry.true_saving_monthly``) so evals can score a
  realised-savings measurement against the truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.clouds.sandbox.actions import Action, apply_action
from cloudoptima.clouds.sandbox.estate import BillingSegment, Estate

HOURS_PER_MONTH = Decimal("730.5")
"""24 × 30.4375 (365.25 / 12 days)."""
_WEEKDAYS = Decimal(5) / Decimal(7)
_CENT = Decimal("0.01")


def billed_monthly(segment: BillingSegment | None) -> Decimal:
    """The bill of an average month of ``segment`` (0 for None or a closed segment); see the module contract."""
    if segment is None or segment.end is not None:
        return Decimal(0)
    if segment.unit == "Hours":
        monthly = segment.unit_price * segment.size * HOURS_PER_MONTH
        return monthly * _WEEKDAYS if segment.schedule == "weekdays" else monthly
    return segment.unit_price * segment.size


def _open_segment(estate: Estate, resource_id: str) -> BillingSegment | None:
    segments = estate.segments.get(resource_id, ())
    return segments[-1] if segments and segments[-1].end is None else None


def true_saving_monthly(estate: Estate, actions: Iterable[Action]) -> tuple[Estate, Decimal]:
    """Apply ``actions`` to ``estate`` in order; the estate after them and their true monthly saving."""
    after = estate
    changed: set[str] = set()
    for action in actions:
        outcome = apply_action(after, action)
        after = outcome.estate
        changed.update(outcome.changed)
    saving = sum(
        (
            billed_monthly(_open_segment(estate, rid)) - billed_monthly(_open_segment(after, rid))
            for rid in sorted(changed)
        ),
        Decimal(0),
    )
    return after, saving.quantize(_CENT, rounding=ROUND_HALF_EVEN)
