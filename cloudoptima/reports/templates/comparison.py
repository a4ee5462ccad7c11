"""What the report templates share: percentages rounded one way, spend lines in one order, and the period
comparison table (cost, previous period, change, change %, share %) the monthly review and showback both show.

- :func:`percent_of` is ``part / whole × 100`` rounded half-even to 0.01 points, ``None`` when ``whole`` is 0
  (a change % against a previous cost of 0 is empty, not infinite).
- :func:`ordered` sorts spend lines largest cost first, then by label (a stable, reproducible order).
- :func:`comparison_table` is one row per line in that order, with a totals row; ``share %`` is of ``total``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.reports.document import Column, Table
from cloudoptima.reports.templates.spend import SpendLine

CENTI = Decimal("0.01")


def percent_of(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (0.01 points, half-even), or ``None`` when ``whole`` is 0."""
    if whole == 0:
        return None
    return (part / whole * 100).quantize(CENTI, rounding=ROUND_HALF_EVEN)


def ordered(lines: Iterable[SpendLine]) -> list[SpendLine]:
    """``lines`` largest cost first, ties by label."""
    return sorted(lines, key=lambda line: (-line.cost, line.label))


def comparison_table(
    *, table_id: str, title: str, label_key: str, label_title: str, lines: Iterable[SpendLine], total: Decimal
) -> Table:
    """The period comparison of ``lines``: label, cost, previous period, change, change %, share % of ``total``."""
    return Table(
        id=table_id,
        title=title,
        columns=[
            Column(key=label_key, title=label_title, kind="text"),
            Column(key="cost", title="Cost", kind="money"),
            Column(key="previous_cost", title="Previous period", kind="money"),
            Column(key="change", title="Change", kind="money"),
            Column(key="change_percent", title="Change %", kind="percent"),
            Column(key="share_percent", title="Share %", kind="percent"),
        ],
        rows=[
            [
                line.label,
                line.cost,
                line.previous_cost,
                line.cost - line.previous_cost,
                percent_of(line.cost - line.previous_cost, line.previous_cost),
                percent_of(line.cost, total),
            ]
            for line in ordered(lines)
        ],
        totals=True,
    )
