"""CSV and JSON renderers: exact values, the same numbers as the XLSX and PDF.

Both write to a binary stream the caller gives and return the number of bytes written.

**CSV** (:func:`render_csv`): a report has several tables with different columns, so the CSV format is a **ZIP
archive holding one CSV file per table and per chart**, named ``NN-<section>-<table or chart>.csv`` in document
order (``NN`` from 01). Each file is UTF-8 with a BOM (Excel opens it as UTF-8), a header row of the column
keys, one row per table row and, when the table has totals, a last row computed by
:meth:`~cloudoptima.reports.document.Table.totals_row` (its label cell says ``Total``). Money and percent are
plain decimal strings exactly as in the document (``0.30``, ``1.125``, no thousands separator, no currency
sign), dates ISO ``YYYY-MM-DD``, empty cells empty. Chart files hold the chart's data (trend:
``date,actual,forecast,lower,upper``; bars: ``label,value``; burn-down: ``date,cumulative_actual,limit``).
:func:`render_csv_table` writes a single table's CSV.

**JSON** (:func:`render_json`): ``{"format": "cloudoptima.report/1", "document": <ReportDocument as JSON>,
"totals": {"<section>/<table>": [cells]}}``; money and percent are decimal strings, dates ISO strings; the
computed totals rows (tables with ``totals`` only) are written as their CSV cell strings (``null`` when empty).
:func:`read_json` parses it back into the same document (and checks the totals agree with the rows).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import IO, Any

from cloudoptima.reports.document import (
    BarChart,
    BurnDownChart,
    Cell,
    Chart,
    ReportDocument,
    Table,
    TrendChart,
)

JSON_FORMAT = "cloudoptima.report/1"


class CountingWriter:
    """Forwards writes to a binary stream and counts the bytes (works on unseekable streams too)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def write(self, data: bytes) -> int:
        self._raw.write(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        """Flushes; the caller's stream stays open (the caller owns it)."""
        self._raw.flush()


def csv_value(value: Cell) -> str:
    """One cell as CSV text: exact decimal strings, ISO dates, empty for ``None``."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_csv(stream: IO[bytes], header: Sequence[str], rows: Iterator[Sequence[Cell]]) -> int:
    """Write a UTF-8 (with BOM) CSV in chunks of rows, so memory stays bounded by a chunk."""
    out = CountingWriter(stream)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    out.write("\ufeff".encode())

    def drain() -> None:
        out.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()

    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_value(v) for v in row])
        if n % 1000 == 0:
            drain()
    drain()
    return out.count


def _table_rows(table: Table) -> Iterator[Sequence[Cell]]:
    yield from table.rows
    if table.totals:
        yield table.totals_row()


def render_csv_table(table: Table, stream: IO[bytes]) -> int:
    """One table as CSV (header of column keys, rows, computed totals row when the table has totals)."""
    return _write_csv(stream, [c.key for c in table.columns], _table_rows(table))


def chart_header_and_rows(chart: Chart) -> tuple[list[str], list[list[Cell]]]:
    """A chart's data as a small table (also what the XLSX charts reference)."""
    if isinstance(chart, TrendChart):
        return ["date", "actual", "forecast", "lower", "upper"], [
            [p.date, p.actual, p.forecast, p.lower, p.upper] for p in chart.points
        ]
    if isinstance(chart, BarChart):
        return ["label", "value"], [[i.label, i.value] for i in chart.items]
    assert isinstance(chart, BurnDownChart)
    return ["date", "cumulative_actual", "limit"], [
        [p.date, p.cumulative_actual, chart.limit] for p in chart.points
    ]


def csv_member_names(document: ReportDocument) -> list[str]:
    """The file names inside the CSV archive, in document order."""
    names: list[str] = []
    for section in document.sections:
        for part in [*section.tables, *section.charts]:
            names.append(f"{len(names) + 1:02d}-{section.id}-{part.id}.csv")
    return names


def render_csv(document: ReportDocument, stream: IO[bytes]) -> int:
    """The document as a ZIP of CSV files (see the module docstring); returns the bytes written."""
    out = CountingWriter(stream)
    names = iter(csv_member_names(document))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in document.sections:
            for table in section.tables:
                with archive.open(next(names), "w") as member:
                    render_csv_table(table, member)
            for chart in section.charts:
                header, rows = chart_header_and_rows(chart)
                with archive.open(next(names), "w") as member:
                    _write_csv(member, header, iter(rows))
    return out.count


def _totals(document: ReportDocument) -> dict[str, list[Cell]]:
    return {
        f"{section.id}/{table.id}": table.totals_row()
        for section in document.sections
        for table in section.tables
        if table.totals
    }


def render_json(document: ReportDocument, stream: IO[bytes]) -> int:
    """The document as JSON (money as decimal strings) with its computed totals; returns the bytes written."""
    body: dict[str, Any] = {
        "format": JSON_FORMAT,
        "document": document.model_dump(mode="json"),
        "totals": {
            key: [csv_value(v) if v is not None else None for v in row]
            for key, row in _totals(document).items()
        },
    }
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    stream.write(data)
    return len(data)


def read_json(data: bytes | str) -> ReportDocument:
    """Parse :func:`render_json`'s output back into the document; raises ``ValueError`` if it is not one or if
    its totals disagree with its rows."""
    body = json.loads(data)
    if not isinstance(body, dict) or body.get("format") != JSON_FORMAT:
        raise ValueError(f"not a report JSON document (format must be {JSON_FORMAT!r})")
    document = ReportDocument.model_validate_json(json.dumps(body["document"]))
    expected = {
        k: [csv_value(v) if v is not None else None for v in row] for k, row in _totals(document).items()
    }
    if body.get("totals") != expected:
        raise ValueError("report JSON: the totals do not match the rows")
    return document
