"""The currency of stored amounts that do not record one (recommendation estimates, anomaly amounts).

They are in the currency of the costs they were computed from (the idea of
:func:`cloudoptima.services.report_currency.period_currency`, per row here). Contract, every query scoped to
``organization_id`` and answering ``None`` when the currency is unknown or not single (the console then shows
the bare number):
- ``window_currencies(session, org, windows)``: for each ``(first_day, last_day)`` window (inclusive, as
  anomalies store them), the one billing currency of the organisation's ``cost_daily`` rows on those days;
  one query for all windows.
- ``account_currencies(session, org, accounts)``: for each provider account id (``sub_account_id`` or
  ``billing_account_id``), the one billing currency of its cost rows; ``None`` as an id stands for the whole
  organisation (rows without an account). One query per call, plus one when ``None`` is asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session


def _single(found: set[str]) -> str | None:
    return next(iter(found)) if len(found) == 1 else None


def window_currencies(
    session: Session, organization_id: uuid.UUID, windows: Iterable[tuple[date | None, date | None]]
) -> dict[tuple[date | None, date | None], str | None]:
    """The one currency of each inclusive window's costs (see module contract)."""
    wanted = {w for w in windows}
    dated = [(s, e or s) for s, e in wanted if s is not None]
    answer: dict[tuple[date | None, date | None], str | None] = {w: None for w in wanted}
    if not dated:
        return answer
    first, last = min(s for s, _ in dated), max(e for _, e in dated if e is not None)
    per_day: dict[date, set[str]] = {}
    for day, currency in session.execute(
        text(
            "SELECT DISTINCT usage_date, billing_currency FROM cost_daily WHERE organization_id = :org "
            "AND usage_date >= :d0 AND usage_date < :d1"
        ),
        {"org": organization_id, "d0": first, "d1": last + timedelta(days=1)},
    ):
        per_day.setdefault(day, set()).add(str(currency))
    for start, end in wanted:
        if start is None:
            continue
        found: set[str] = set()
        day = start
        while day <= (end or start):
            found |= per_day.get(day, set())
            day += timedelta(days=1)
        answer[(start, end)] = _single(found)
    return answer


def account_currencies(
    session: Session, organization_id: uuid.UUID, accounts: Iterable[str | None]
) -> dict[str | None, str | None]:
    """The one currency of each account's costs; ``None`` → the organisation's (see module contract)."""
    wanted = set(accounts)
    ids = sorted(a for a in wanted if a)
    found: dict[str | None, set[str]] = {a: set() for a in wanted}
    if ids:
        for account, currency in session.execute(
            text(
                "SELECT DISTINCT sub_account_id, billing_currency FROM cost_daily WHERE organization_id = :org "
                "AND sub_account_id = ANY(:ids) UNION SELECT DISTINCT billing_account_id, billing_currency "
                "FROM cost_daily WHERE organization_id = :org AND billing_account_id = ANY(:ids)"
            ),
            {"org": organization_id, "ids": ids},
        ):
            found[str(account)].add(str(currency))
    if None in wanted:
        found[None] = {
            str(c)
            for c in session.scalars(
                text("SELECT DISTINCT billing_currency FROM cost_daily WHERE organization_id = :org"),
                {"org": organization_id},
            )
        }
    return {a: _single(c) for a, c in found.items()}
