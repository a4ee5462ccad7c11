"""The report document refuses what a renderer could not show truthfully, naming the table, row and column."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cloudoptima.reports.document import (
    Column,
    Highlight,
    ReportDocument,
    Section,
    Table,
    format_cell,
    format_money,
)

COLUMNS = [
    Column(key="name", title="Name", kind="text"),
    Column(key="day", title="Day", kind="date"),
    Column(key="count", title="Count", kind="integer"),
    Column(key="cost", title="Cost", kind="money"),
    Column(key="change", title="Change %", kind="percent"),
]


def _table(rows: list[list[object]], **kw: object) -> Table:
    return Table.model_validate(
        {"id": "by_service", "title": "By service", "columns": COLUMNS, "rows": rows, **kw}
    )


def _document(**kw: object) -> ReportDocument:
    fields: dict[str, object] = {
        "title": "T",
        "organisation_name": "Org",
        "start_date": date(2026, 11, 1),
        "end_date": date(2026, 12, 1),
        "generated_at": datetime(2026, 12, 1, tzinfo=UTC),
        "currency": "USD",
    }
    fields.update(kw)
    return ReportDocument.model_validate(fields)


def test_totals_are_computed_from_the_rows_exactly() -> None:
    table = _table(
        [
            ["a", date(2026, 11, 1), 2, Decimal("0.10"), Decimal("5")],
            ["b", date(2026, 11, 2), 3, Decimal("0.20"), None],
            ["c", None, None, Decimal("0.005"), Decimal("-1.5")],
        ],
        totals=True,
    )
    assert table.totals_row() == ["Total", None, 5, Decimal("0.305"), None]
    assert 0.10 + 0.20 != 0.30  # what a float sum would have printed
    assert table.totals_row()[3] == Decimal("0.10") + Decimal("0.20") + Decimal("0.005")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ["a", date(2026, 11, 1), 1, 0.1, None],
            r"table 'by_service' row 2 column 'cost' \(money\): .*got float 0.1",
        ),
        (
            ["a", date(2026, 11, 1), 1, Decimal("NaN"), None],
            r"row 2 column 'cost' \(money\): expected a finite",
        ),
        (
            ["a", date(2026, 11, 1), True, Decimal(1), None],
            r"row 2 column 'count' \(integer\): expected int, got bool",
        ),
        (
            ["a", datetime(2026, 11, 1), 1, Decimal(1), None],  # noqa: DTZ001 - a naive datetime on purpose
            r"row 2 column 'day' \(date\): expected date",
        ),
        ([1, date(2026, 11, 1), 1, Decimal(1), None], r"row 2 column 'name' \(text\): expected str, got int"),
        (["a", date(2026, 11, 1), 1, Decimal(1), 12.5], r"row 2 column 'change' \(percent\)"),
        (["a", date(2026, 11, 1), 1], r"table 'by_service' row 2: expected 5 cells .*got 3"),
    ],
)
def test_a_bad_cell_is_named_by_table_row_and_column(row: list[object], message: str) -> None:
    good = ["ok", date(2026, 11, 1), 1, Decimal("1.00"), None]
    with pytest.raises(ValidationError, match=message):
        _table([good, row])


def test_a_text_column_cannot_be_totalled_and_keys_are_unique() -> None:
    with pytest.raises(
        ValidationError, match="column 'name': only money and integer columns can be totalled"
    ):
        Column(key="name", title="Name", kind="text", total=True)
    with pytest.raises(ValidationError, match="column keys must be unique"):
        Table(id="t", title="T", columns=[COLUMNS[0], COLUMNS[0]], rows=[])


def test_period_time_and_highlights_are_checked() -> None:
    with pytest.raises(
        ValidationError, match=r"period: end_date 2026-11-01 must be after start_date 2026-11-01"
    ):
        _document(end_date=date(2026, 11, 1))
    with pytest.raises(ValidationError, match="generated_at: must be an aware UTC datetime"):
        _document(generated_at=datetime(2026, 12, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValidationError, match="generated_at: must be an aware UTC datetime"):
        _document(generated_at=datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=1))))
    with pytest.raises(ValidationError, match=r"highlight 'Total' \(money\): .*got float"):
        Highlight(label="Total", kind="money", value=12.5)
    with pytest.raises(ValidationError, match="section 's': table and chart ids must be unique"):
        _document(sections=[Section(id="s", title="S", tables=[_table([]), _table([])])])


def test_period_label_shows_the_inclusive_last_day() -> None:
    document = _document()
    assert document.last_day == date(2026, 11, 30)
    assert document.period_label() == "2026-11-01 – 2026-11-30"


def test_money_is_shown_without_losing_digits() -> None:
    assert format_money(Decimal("1234.5")) == "1,234.50"
    assert format_money(Decimal("10.125")) == "10.125"
    assert format_money(Decimal("-3")) == "-3.00"
    assert format_money(Decimal("1E+3")) == "1,000.00"
    assert format_cell("percent", Decimal("24.4166")) == "+24.42 %"
    assert format_cell("integer", 12345) == "12,345"
    assert format_cell("money", None) == ""
