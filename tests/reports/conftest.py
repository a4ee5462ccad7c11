"""A monthly cost review with known Decimal numbers: cents that binary floats get wrong (0.10 + 0.20), a
3-decimal amount (10.125), and a non-ASCII region label the report font can draw."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.fonts import report_font
from cloudoptima.reports.templates.monthly_cost_review import (
    DailySpend,
    ForecastDay,
    MonthlyCostReviewInput,
    SpendLine,
    build_monthly_cost_review,
)

D = Decimal
START, END = date(2026, 11, 1), date(2026, 12, 1)
GENERATED_AT = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
TOTAL = D("1244.525")
PREVIOUS_TOTAL = D("1000.30")

# "Zürich – 東京" when the report font has the CJK glyphs, else a label DejaVu can draw.
NON_ASCII_LABEL = "Zürich – 東京" if report_font().covers("Zürich – 東京") else "Zürich – café"


def review_input(**changes: object) -> MonthlyCostReviewInput:
    """The sample input; ``changes`` replace fields (validated again)."""
    daily = [DailySpend(date=START + timedelta(days=i), cost=D("41.45")) for i in range(29)]
    daily.append(DailySpend(date=date(2026, 11, 30), cost=TOTAL - D("41.45") * 29))
    fields: dict[str, object] = {
        "organisation_name": "Acme Wärme GmbH",
        "currency": "EUR",
        "start_date": START,
        "end_date": END,
        "generated_at": GENERATED_AT,
        "total_cost": TOTAL,
        "previous_total_cost": PREVIOUS_TOTAL,
        "by_service": [
            SpendLine(label="Compute", cost=D("1234.10"), previous_cost=D("1000.00")),
            SpendLine(label="Storage", cost=D("0.10"), previous_cost=D("0.05")),
            SpendLine(label="Network", cost=D("0.20"), previous_cost=D("0.25")),
            SpendLine(label="Support", cost=D("10.125"), previous_cost=D("0")),
        ],
        "by_account": [
            SpendLine(label="Production (111111111111)", cost=D("1234.30"), previous_cost=D("1000.25")),
            SpendLine(label="Sandbox (222222222222)", cost=D("10.225"), previous_cost=D("0.05")),
        ],
        "by_region": [
            SpendLine(label=NON_ASCII_LABEL, cost=D("1244.425"), previous_cost=D("1000.30")),
            SpendLine(label="global", cost=D("0.10"), previous_cost=D("0")),
        ],
        "tag_key": "team",
        "by_tag": [
            SpendLine(label="platform", cost=D("1200.00"), previous_cost=D("900.00")),
            SpendLine(label="(untagged)", cost=D("44.525"), previous_cost=D("100.30")),
        ],
        "daily": daily,
        "forecast": [
            ForecastDay(
                date=date(2026, 11, 20) + timedelta(days=i), forecast=D("41.5"), lower=D("38"), upper=D("45")
            )
            for i in range(21)
        ],
        "top_n": 3,
    }
    fields.update(changes)
    return MonthlyCostReviewInput.model_validate(fields)


@pytest.fixture
def review() -> ReportDocument:
    return build_monthly_cost_review(review_input())
