"""The notice of one digest: its title, summary, severity and facts, and the key that makes it once-only.

Contract:
- :func:`digest_notice` turns :class:`~cloudoptima.services.digests.figures.DigestFigures` into a
  :class:`~cloudoptima.domain.notices.Notice` (``digest``): the amount is the period's spend, each fact one
  figure with its absolute API link; severity is ``critical`` with a budget over, ``warning`` with a budget at
  risk, new anomalies or approvals waiting, else ``info``.
- :func:`idempotency_key` is ``digest:<user>:<start>:<end>`` (the email Message-ID and the inbox key), so a
  period's digest is delivered once per user.
- Pure: no I/O.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeFact, NoticeSeverity
from cloudoptima.notifications.render import format_amount
from cloudoptima.services.digests.figures import DigestFigures
from cloudoptima.services.digests.schedule import DigestPeriod


def idempotency_key(user_id: uuid.UUID, period: DigestPeriod) -> str:
    """The key of one user's digest for one period (email Message-ID, inbox key)."""
    return f"digest:{user_id}:{period.start.isoformat()}:{period.end.isoformat()}"


def _title(period: DigestPeriod) -> str:
    last = period.end - timedelta(days=1)
    if period.frequency == "daily":
        return f"Daily digest for {last.isoformat()}"
    return f"Weekly digest {period.start.isoformat()} to {last.isoformat()}"


def _change(figures: DigestFigures) -> str:
    delta = figures.spend - figures.previous_spend
    sign = "+" if delta >= 0 else "-"
    text = f"{sign}{format_amount(abs(delta), figures.currency)}"
    if figures.change_percent is not None:
        text += f" ({figures.change_percent:+.1f}%)"
    return text


def digest_notice(
    organization_id: uuid.UUID, user_id: uuid.UUID, period: DigestPeriod, figures: DigestFigures
) -> Notice:
    """The notice of one digest: the amount is the period's spend, the facts every figure with its link."""
    c = figures.currency
    links = figures.links
    budgets = figures.budgets_exceeded + figures.budgets_at_risk
    facts = [
        NoticeFact(label="Previous period", value=format_amount(figures.previous_spend, c)),
        NoticeFact(label="Change", value=f"{_change(figures)} · {links['spend']}"),
    ]
    if figures.other_currencies:
        others = ", ".join(format_amount(v, k) for k, v in figures.other_currencies.items())
        facts.append(NoticeFact(label="Also spent", value=others))
    facts += [
        NoticeFact(
            label="New anomalies",
            value=f"{figures.new_anomalies}, impact {format_amount(figures.anomaly_impact, c)}"
            f" · {links['anomalies']}",
        ),
        NoticeFact(
            label="Open savings",
            value=f"{format_amount(figures.open_savings_monthly, c)} per month in "
            f"{figures.open_recommendations} recommendations · {links['recommendations']}",
        ),
        NoticeFact(
            label="Budgets",
            value=f"{len(figures.budgets_exceeded)} over, {len(figures.budgets_at_risk)} at risk"
            + (f" ({', '.join(budgets)})" if budgets else "")
            + f" · {links['budgets']}",
        ),
        NoticeFact(
            label="Approvals waiting",
            value=f"{figures.approvals_waiting} for your role · {links['approvals']}",
        ),
    ]
    if figures.budgets_exceeded:
        severity = NoticeSeverity.CRITICAL
    elif figures.budgets_at_risk or figures.new_anomalies or figures.approvals_waiting:
        severity = NoticeSeverity.WARNING
    else:
        severity = NoticeSeverity.INFO
    last = period.end - timedelta(days=1)
    summary = (
        f"Spend {format_amount(figures.spend, c)} from {period.start.isoformat()} to {last.isoformat()} "
        f"({_change(figures)} against the previous {period.days} days); {figures.new_anomalies} new "
        f"anomalies; {format_amount(figures.open_savings_monthly, c)} open savings per month; "
        f"{len(figures.budgets_exceeded)} budgets over and {len(figures.budgets_at_risk)} at risk; "
        f"{figures.approvals_waiting} approvals waiting."
    )
    return Notice(
        event_type=NoticeEventType.DIGEST,
        severity=severity,
        title=_title(period),
        summary=summary[:3000],
        amount=figures.spend,
        currency=c,
        link=links["spend"],
        facts=tuple(facts),
        organization_id=organization_id,
        occurred_at=period.send_at,
        idempotency_key=idempotency_key(user_id, period),
    )


def notice_payload(notice: Notice) -> dict[str, Any]:
    """The in-app payload: the amount, currency and the facts (label → value)."""
    return {
        "amount": None if notice.amount is None else str(notice.amount),
        "currency": notice.currency,
        "facts": {fact.label: fact.value for fact in notice.facts},
    }
