"""Text pieces every channel shows the same way: the amount, the table of facts, the severity label.

Contract:
- :func:`format_amount` writes money with thousands separators and two decimals, then the currency
  (``1,234.57 USD``), rounding half-even; the exact amount travels unrounded in the generic webhook's JSON.
- :func:`display_facts` is the notice's table as shown to people: the amount first (label ``Amount``) when the
  notice has one, then the notice's facts in their order.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.domain.notices import Notice, NoticeSeverity

SEVERITY_LABELS = {
    NoticeSeverity.INFO: "Info",
    NoticeSeverity.WARNING: "Warning",
    NoticeSeverity.CRITICAL: "Critical",
}


def format_amount(amount: Decimal, currency: str) -> str:
    """``1,234.57 USD`` (see module contract)."""
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{rounded:,.2f} {currency}"


def display_facts(notice: Notice) -> list[tuple[str, str]]:
    """The notice's table for people (see module contract)."""
    rows: list[tuple[str, str]] = []
    if notice.amount is not None and notice.currency is not None:
        rows.append(("Amount", format_amount(notice.amount, notice.currency)))
    rows.extend((fact.label, fact.value) for fact in notice.facts)
    return rows


def context_line(notice: Notice) -> str:
    """``Critical · budget.actual · 2026-12-07 09:30 UTC``."""
    when = notice.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{SEVERITY_LABELS[notice.severity]} · {notice.event_type.value} · {when}"
