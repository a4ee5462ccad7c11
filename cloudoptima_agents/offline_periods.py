"""Named periods in a chat question, resolved against the caller's clock (offline mode).

Contract:
- ``resolve(text, today)`` returns the first period the text names as an end-exclusive ``[start, end)`` of UTC
  days, or None when it names none. ``today`` comes from the caller's (pinnable) clock; nothing here reads
  the system clock. Grammar (case-insensitive, first match in this order):

  - two ISO dates ``2031-01-05 … 2031-01-10`` → ``[first, second)``; one ISO date → that day;
  - ``last|past|previous N days|weeks`` → the N days (7·N) before today, ``[today - N, today)``;
  - ``last|past|previous N months`` → the N whole calendar months before this month;
  - ``today`` → ``[today, today + 1)``; ``yesterday`` → ``[today - 1, today)``;
  - ``last week`` → the previous ISO week (Monday to Monday); ``this week`` / ``week to date`` → Monday to
    tomorrow;
  - ``last month`` → the previous calendar month (in January: December of the previous year);
    ``this month`` / ``month to date`` / ``mtd`` → month to date as every screen and the API define it
    (``cloudoptima.analytics.month_to_date``): the complete days of this month, ``[the 1st, today)``; on
    the 1st (no complete day yet), the whole previous month, labelled so;
  - ``last quarter`` / ``this quarter``, ``last year`` / ``this year`` / ``year to date`` / ``ytd`` likewise;
  - a month name (``November``, ``november 2030``, ``Nov 2030``) → that calendar month: without a year, the
    most recent one not after today (asked in January, "December" is last year's); the current month is
    its complete days ``[the 1st, today)``, or today alone (labelled incomplete) when today is the 1st.

- ``Period.baseline_start()`` is where the comparison baseline of the period starts: for a calendar month
  (whole or to date) the first of the previous month (the same days of last month) when that month is long
  enough, otherwise — and for every other period — the same number of days just before ``start``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from cloudoptima.analytics.month_to_date import month_to_date

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_LAST_N = re.compile(r"\b(?:last|past|previous)\s+(\d{1,3})\s+(day|week|month)s?\b")
_MONTH_NAME = re.compile(
    r"\b("
    + "|".join(MONTHS)
    + r")(?:\s+(\d{4}))?\b|\b("
    + "|".join(m[:3] for m in MONTHS)
    + r")\.?\s+(\d{4})\b"
)

_MAY_AS_MONTH = re.compile(r"\b(?:in|for|during|of|since|from|until)\s+$")


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC days, how the question named it, and whether it is calendar-month based."""

    start: date
    end: date
    label: str
    monthly: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def baseline_start(self) -> date:
        """First day of the comparison baseline (see module contract)."""
        if self.monthly:
            previous = _add_months(_month_start(self.start), -1)
            if previous + timedelta(days=self.days) <= self.start:
                return previous
        return self.start - timedelta(days=self.days)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month(first: date, today: date, label: str) -> Period:
    end = _add_months(first, 1)
    if first == today:
        return Period(
            first, today + timedelta(days=1), f"{label} so far (today only, not yet complete)", True
        )
    if first < today < end:
        return Period(first, today, f"{label} through {today - timedelta(days=1)}", monthly=True)
    return Period(first, end, label, monthly=True)


def _month_to_date(today: date) -> Period:
    """Month to date as the API's ``trend_basis`` covers it (complete days; the 1st: the previous month)."""
    basis = month_to_date(today)
    first = basis.current_start
    name = f"{MONTHS[first.month - 1].capitalize()} {first.year}"
    if basis.complete_month:
        label = f"last month, {name} (complete; no complete day of this month yet)"
    else:
        label = f"this month, {name}, through {today - timedelta(days=1)}"
    return Period(first, basis.current_end, label, monthly=True)


def _named_month(found: re.Match[str], today: date) -> Period | None:
    name = found.group(1) or found.group(3)
    year_text = found.group(2) or found.group(4)
    month = next(i for i, m in enumerate(MONTHS, start=1) if m.startswith(name))
    if year_text:
        first = date(int(year_text), month, 1)
    else:
        first = date(today.year if month <= today.month else today.year - 1, month, 1)
    if first > today:
        return None
    return _month(first, today, f"{MONTHS[month - 1].capitalize()} {first.year}")


def _iso(text: str) -> Period | None:
    days = []
    for year, month, day in _ISO.findall(text):
        try:
            days.append(date(int(year), int(month), int(day)))
        except ValueError:
            continue
    if len(days) >= 2 and days[1] > days[0]:
        return Period(days[0], days[1], f"{days[0]} to {days[1] - timedelta(days=1)}")
    if days:
        return Period(days[0], days[0] + timedelta(days=1), str(days[0]))
    return None


def resolve(text: str, today: date) -> Period | None:
    """The period ``text`` names, or None (see module contract)."""
    lower = text.lower()
    tomorrow = today + timedelta(days=1)
    this_month = _month_start(today)
    monday = today - timedelta(days=today.weekday())
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    iso = _iso(text)
    if iso:
        return iso
    found = _LAST_N.search(lower)
    if found:
        count, unit = max(1, int(found.group(1))), found.group(2)
        if unit == "month":
            return Period(
                _add_months(this_month, -count), this_month, f"the last {count} months", monthly=True
            )
        days = count * (7 if unit == "week" else 1)
        return Period(today - timedelta(days=days), today, f"the last {days} days")
    simple: list[tuple[str, Period]] = [
        (
            r"\byesterday\b",
            Period(today - timedelta(days=1), today, "yesterday"),
        ),
        (r"\btoday\b", Period(today, tomorrow, "today")),
        (r"\b(?:last|previous|past) week\b", Period(monday - timedelta(days=7), monday, "last week")),
        (r"\b(?:this week|week to date|wtd)\b", Period(monday, tomorrow, "this week so far")),
        (
            r"\b(?:last|previous|past) month\b",
            _month(
                _add_months(this_month, -1), today, _month_label(_add_months(this_month, -1), "last month")
            ),
        ),
        (
            r"\b(?:this month|month to date|month-to-date|mtd|so far this month)\b",
            _month_to_date(today),
        ),
        (r"\b(?:last|previous|past) quarter\b", Period(_add_months(quarter, -3), quarter, "last quarter")),
        (r"\b(?:this quarter|quarter to date|qtd)\b", Period(quarter, tomorrow, "this quarter so far")),
        (
            r"\b(?:last|previous|past) year\b",
            Period(date(today.year - 1, 1, 1), date(today.year, 1, 1), f"last year ({today.year - 1})"),
        ),
        (
            r"\b(?:this year|year to date|year-to-date|ytd)\b",
            Period(date(today.year, 1, 1), tomorrow, f"this year ({today.year}) so far"),
        ),
    ]
    for pattern, period in simple:
        if re.search(pattern, lower):
            return period
    for named in _MONTH_NAME.finditer(lower):
        if (
            named.group(1) == "may"
            and not named.group(2)
            and not _MAY_AS_MONTH.search(lower[: named.start()])
        ):
            continue  # "may" the verb
        return _named_month(named, today)
    return None


def _month_label(first: date, name: str) -> str:
    return f"{name}, {MONTHS[first.month - 1].capitalize()} {first.year}"
