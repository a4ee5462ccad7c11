"""Named periods resolve against the caller's clock, end-exclusive; offline intents are recognised."""

from __future__ import annotations

from datetime import date

import pytest

from cloudoptima_agents.offline_answers import detect
from cloudoptima_agents.offline_periods import Period, resolve

THU = date(2031, 2, 20)  # a Thursday


@pytest.mark.parametrize(
    ("text", "today", "start", "end"),
    [
        ("what did we spend most on last month", THU, date(2031, 1, 1), date(2031, 2, 1)),
        ("last month", date(2031, 1, 15), date(2030, 12, 1), date(2031, 1, 1)),  # January → last December
        ("previous month", date(2031, 3, 31), date(2031, 2, 1), date(2031, 3, 1)),
        ("this month", THU, date(2031, 2, 1), THU),  # complete days only, as the API's month to date
        ("month to date", date(2031, 2, 1), date(2031, 1, 1), date(2031, 2, 1)),  # the 1st: all of January
        ("mtd", date(2028, 3, 1), date(2028, 2, 1), date(2028, 3, 1)),  # the 1st: all 29 days of February
        ("February", date(2031, 2, 1), date(2031, 2, 1), date(2031, 2, 2)),  # named on its 1st: today alone
        ("yesterday", THU, date(2031, 2, 19), THU),
        ("yesterday", date(2031, 1, 1), date(2030, 12, 31), date(2031, 1, 1)),
        ("today", THU, THU, date(2031, 2, 21)),
        ("last week", THU, date(2031, 2, 10), date(2031, 2, 17)),
        ("top accounts this week", THU, date(2031, 2, 17), date(2031, 2, 21)),
        ("last 30 days", THU, date(2031, 1, 21), THU),
        ("over the past 2 weeks", THU, date(2031, 2, 6), THU),
        ("the last 3 months", THU, date(2030, 11, 1), date(2031, 2, 1)),
        ("top services in November", THU, date(2030, 11, 1), date(2030, 12, 1)),
        ("top services in november 2029", THU, date(2029, 11, 1), date(2029, 12, 1)),
        ("Nov 2030", THU, date(2030, 11, 1), date(2030, 12, 1)),
        ("December", date(2031, 1, 10), date(2030, 12, 1), date(2031, 1, 1)),
        ("spend in February", THU, date(2031, 2, 1), THU),  # the current month: its complete days
        ("costs in may", THU, date(2030, 5, 1), date(2030, 6, 1)),
        ("last quarter", THU, date(2030, 10, 1), date(2031, 1, 1)),
        ("this year", THU, date(2031, 1, 1), date(2031, 2, 21)),
        ("last year", THU, date(2030, 1, 1), date(2031, 1, 1)),
        ("from 2031-01-05 to 2031-01-10", THU, date(2031, 1, 5), date(2031, 1, 10)),
        ("on 2031-01-05", THU, date(2031, 1, 5), date(2031, 1, 6)),
    ],
)
def test_named_periods_resolve_end_exclusive(text: str, today: date, start: date, end: date) -> None:
    period = resolve(text, today)
    assert period is not None, text
    assert (period.start, period.end) == (start, end), period


def test_no_period_and_may_the_verb() -> None:
    assert resolve("where can we save?", THU) is None
    assert resolve("how may I reduce cost", THU) is None
    assert resolve("top services in November 2031", THU) is None  # the future names no spend


def test_baselines_compare_like_with_like() -> None:
    feb = resolve("last month", date(2031, 3, 5))
    assert feb is not None and feb.baseline_start() == date(2031, 1, 1)  # 28 days of January
    march_to_date = resolve("this month", date(2031, 3, 5))
    assert march_to_date is not None and march_to_date.baseline_start() == date(2031, 2, 1)
    march = resolve("march", date(2031, 4, 2))
    assert march is not None and march.baseline_start() == date(2031, 1, 29)  # February is shorter
    day = Period(date(2031, 2, 19), date(2031, 2, 20), "yesterday")
    assert day.baseline_start() == date(2031, 2, 18)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("What did we spend most on last month?", "top"),
        ("top services in November", "top"),
        ("Top accounts this week", "top"),
        ("What are my top spenders?", "top"),
        ("How much did we spend yesterday?", "top"),
        ("Why did cost go up?", "change"),
        ("why did EC2 jump yesterday", "change"),
        ("What drove the increase in spend last month?", "change"),
        ("why is our bill so high", "change"),
        ("cost increase since last week", "change"),
        ("what are our biggest costs", "top"),
        ("where is our money going", "top"),
        ("show me spend by account for October", "top"),
        ("how do we cut our cloud bill", "savings"),
        ("Any savings opportunities?", "savings"),
        ("Where can we save?", "savings"),
        ("How can I reduce cost?", "savings"),
        ("Which recommendations would save the most?", "savings"),
        ("Which budgets are at risk?", "budgets"),
        ("Are we over budget?", "budgets"),
        ("show my unattached disks", None),
        ("what is the forecast?", None),
    ],
)
def test_intents(question: str, intent: str | None) -> None:
    assert detect(question, THU) == intent
