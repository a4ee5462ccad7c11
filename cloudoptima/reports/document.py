"""The report document: what every renderer draws, format-independent and exact.

A :class:`ReportDocument` has a title, the organisation's name, a period (``start_date`` inclusive, ``end_date``
exclusive), ``generated_at`` (an aware UTC datetime the caller gives: nothing here reads the clock), one
currency, a few highlights for the title block, and sections. A section holds typed tables and charts as data.

Cells are typed by their column's kind and checked strictly, so a renderer never has to guess:

============  ===========================================  ==================================================
kind          Python value                                 meaning
============  ===========================================  ==================================================
``text``      ``str``                                      a label
``date``      ``datetime.date`` (not a ``datetime``)       a calendar day
``money``     ``Decimal`` (never ``float``)                an amount in the document's currency
``percent``   ``Decimal``                                  percentage points: ``12.5`` means 12.5 %
``integer``   ``int`` (not ``bool``)                       a count
============  ===========================================  ==================================================

Any cell may be ``None`` (an empty cell, e.g. a change % when the previous period cost nothing). A wrong type,
a row with the wrong number of cells, or an empty period raises a ``ValueError`` (wrapped by pydantic's
``ValidationError``) that names the table, the row (1-based) and the column.

Totals are never stored: a table says *whether* it has a totals row (``totals``) and :meth:`Table.totals_row`
computes it from the rows (exact Decimal sums of the money and integer columns, or of the columns named in
``Column.total``), so a renderer cannot show a total that disagrees with its rows.

From JSON (``ReportDocument.model_validate_json``), money and percent cells must be decimal *strings* (a JSON
number would already have been a binary float) and date cells ISO strings; the JSON renderer writes them so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

ColumnKind = Literal["text", "date", "money", "percent", "integer"]
Cell = str | date | Decimal | int | None

_SUMMABLE: frozenset[str] = frozenset({"money", "integer"})


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def check_cell(kind: ColumnKind, value: object, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` unless ``value`` is a valid cell of ``kind`` (``None`` always is)."""
    if value is None:
        return
    ok: bool
    if kind == "text":
        ok = isinstance(value, str)
        expected = "str"
    elif kind == "date":
        ok = isinstance(value, date) and not isinstance(value, datetime)
        expected = "date (not datetime)"
    elif kind in ("money", "percent"):
        ok = isinstance(value, Decimal) and value.is_finite()
        expected = "a finite Decimal (never float)"
    else:
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "int"
    if not ok:
        raise ValueError(f"{where} ({kind}): expected {expected}, got {type(value).__name__} {value!r}")


def cell_from_json(kind: ColumnKind, value: object, where: str) -> object:
    """Turn one JSON cell back into its Python value (decimal strings → Decimal, ISO strings → date)."""
    if value is None:
        return None
    if kind in ("money", "percent"):
        if not isinstance(value, str):
            raise ValueError(f"{where} ({kind}): expected a decimal string in JSON, got {value!r}")
        try:
            return Decimal(value)
        except ArithmeticError as exc:
            raise ValueError(f"{where} ({kind}): not a decimal: {value!r}") from exc
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{where} (date): not an ISO date: {value!r}") from exc
    return value


class Column(_Model):
    """One column: a stable ``key`` (CSV header, JSON), a ``title`` (what people read) and a ``kind``.

    ``total``: whether the totals row sums this column; by default money and integer columns are summed.
    """

    key: str = Field(min_length=1)
    title: str
    kind: ColumnKind
    total: bool | None = None

    @model_validator(mode="after")
    def _check_total(self) -> Column:
        if self.total and self.kind not in _SUMMABLE:
            raise ValueError(f"column {self.key!r}: only money and integer columns can be totalled")
        return self

    @property
    def summed(self) -> bool:
        return self.kind in _SUMMABLE if self.total is None else self.total


class Table(_Model):
    """A typed table; ``rows`` hold one cell per column, checked against the column's kind."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    title: str
    columns: list[Column] = Field(min_length=1)
    rows: list[list[Any]]
    totals: bool = False

    @field_validator("rows", mode="before")
    @classmethod
    def _rows_from_json(cls, rows: object, info: ValidationInfo) -> object:
        columns = info.data.get("columns")
        if info.mode != "json" or not isinstance(rows, list) or not columns:
            return rows
        table = info.data.get("id", "?")
        converted: list[object] = []
        for r, row in enumerate(rows, start=1):
            if not isinstance(row, list) or len(row) != len(columns):
                converted.append(row)  # the after-validator names the problem
                continue
            converted.append(
                [
                    cell_from_json(col.kind, value, f"table {table!r} row {r} column {col.key!r}")
                    for col, value in zip(columns, row, strict=True)
                ]
            )
        return converted

    @model_validator(mode="after")
    def _check_rows(self) -> Table:
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"table {self.id!r}: column keys must be unique, got {keys}")
        width = len(self.columns)
        for r, row in enumerate(self.rows, start=1):
            if len(row) != width:
                raise ValueError(
                    f"table {self.id!r} row {r}: expected {width} cells ({keys}), got {len(row)}"
                )
            for col, value in zip(self.columns, row, strict=True):
                check_cell(col.kind, value, f"table {self.id!r} row {r} column {col.key!r}")
        return self

    def totals_row(self) -> list[Cell]:
        """The totals row, computed from the rows: exact sums of summed columns, ``"Total"`` in the first text
        column that is not summed, ``None`` elsewhere."""
        out: list[Cell] = []
        label_placed = False
        for i, col in enumerate(self.columns):
            if col.summed:
                if col.kind == "money":
                    out.append(sum((row[i] for row in self.rows if row[i] is not None), Decimal(0)))
                else:
                    out.append(sum(row[i] for row in self.rows if row[i] is not None))
            elif col.kind == "text" and not label_placed:
                out.append("Total")
                label_placed = True
            else:
                out.append(None)
        return out


class TrendPoint(_Model):
    """One day of a daily trend: the actual cost (``None`` for future days) and the forecast with its band."""

    date: date
    actual: Decimal | None = None
    forecast: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None


class TrendChart(_Model):
    kind: Literal["trend"] = "trend"
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    points: list[TrendPoint] = Field(min_length=1)


class BarItem(_Model):
    label: str
    value: Decimal


class BarChart(_Model):
    """Top-N bars, drawn in the given order (the template sorts)."""

    kind: Literal["bars"] = "bars"
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    items: list[BarItem] = Field(min_length=1)


class BurnDownPoint(_Model):
    date: date
    cumulative_actual: Decimal


class BurnDownChart(_Model):
    """A budget burn-down: cumulative actual cost per day against the budget's ``limit`` line."""

    kind: Literal["burn_down"] = "burn_down"
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    limit: Decimal
    points: list[BurnDownPoint] = Field(min_length=1)


Chart = Annotated[TrendChart | BarChart | BurnDownChart, Field(discriminator="kind")]


class Section(_Model):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    title: str
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)


class Highlight(_Model):
    """A headline figure for the title block (total cost, change, …), typed like a cell."""

    label: str
    kind: ColumnKind
    value: Any

    @field_validator("value", mode="before")
    @classmethod
    def _value_from_json(cls, value: object, info: ValidationInfo) -> object:
        kind = info.data.get("kind")
        if info.mode == "json" and kind is not None:
            return cell_from_json(kind, value, f"highlight {info.data.get('label')!r}")
        return value

    @model_validator(mode="after")
    def _check_value(self) -> Highlight:
        check_cell(self.kind, self.value, f"highlight {self.label!r}")
        return self


class ReportDocument(_Model):
    """A whole report. ``end_date`` is exclusive; ``generated_at`` is an aware UTC datetime."""

    title: str = Field(min_length=1)
    organisation_name: str
    start_date: date
    end_date: date
    generated_at: datetime
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    highlights: list[Highlight] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    @field_validator("generated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() != timedelta(0):
            raise ValueError("generated_at: must be an aware UTC datetime")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _check(self) -> ReportDocument:
        if self.end_date <= self.start_date:
            raise ValueError(
                f"period: end_date {self.end_date} must be after start_date {self.start_date} (end-exclusive)"
            )
        ids = [s.id for s in self.sections]
        if len(set(ids)) != len(ids):
            raise ValueError(f"sections: ids must be unique, got {ids}")
        for section in self.sections:
            names = [t.id for t in section.tables] + [c.id for c in section.charts]
            if len(set(names)) != len(names):
                raise ValueError(f"section {section.id!r}: table and chart ids must be unique, got {names}")
        return self

    @property
    def last_day(self) -> date:
        """The last day included in the period."""
        return self.end_date - timedelta(days=1)

    def period_label(self) -> str:
        """The period as people read it: inclusive first and last day, e.g. ``2026-11-01 – 2026-11-30``."""
        return f"{self.start_date.isoformat()} – {self.last_day.isoformat()}"


def format_money(value: Decimal) -> str:
    """Money as shown in PDF text: thousands separators, at least two decimals, never rounded away
    (``1234.5`` → ``1,234.50``; ``0.125`` → ``0.125``)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return format(value, ",f")


def format_percent(value: Decimal) -> str:
    """Percentage points with two decimals and a sign: ``12.345`` → ``+12.35 %``."""
    return f"{value:+,.2f} %"


def format_cell(kind: ColumnKind, value: Cell) -> str:
    """One cell as text for people (PDF); CSV and JSON write exact values instead."""
    if value is None:
        return ""
    if kind == "money" and isinstance(value, Decimal):
        return format_money(value)
    if kind == "percent" and isinstance(value, Decimal):
        return format_percent(value)
    if kind == "integer" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
