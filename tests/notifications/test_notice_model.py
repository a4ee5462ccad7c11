"""The notice model refuses what channels could not render faithfully, naming the field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tests.notifications.notices import NOW, approval_notice


def test_occurred_at_is_normalised_to_utc() -> None:
    paris = datetime(2026, 12, 7, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert approval_notice(occurred_at=paris).occurred_at == NOW
    assert approval_notice(occurred_at=paris).occurred_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": datetime(2026, 12, 7, 9, 30)}, "occurred_at"),  # noqa: DTZ001 - naive on purpose
        ({"currency": None}, "amount and currency"),
        ({"amount": None}, "amount and currency"),
        ({"currency": "usd"}, "currency"),
        ({"amount": Decimal("NaN")}, "amount"),
        ({"link": "/approvals/1"}, "link"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"idempotency_key": "has spaces"}, "idempotency_key"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_notices_are_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        approval_notice(**changes)


def test_a_notice_without_money_or_link_is_fine() -> None:
    notice = approval_notice(amount=None, currency=None, link=None, facts=())
    assert notice.amount is None and notice.link is None
