"""Money as people read it in a report: rounded half-even to the currency's minor unit, with thousands separators.

Only the human-facing renderings use this: the PDF text and the XLSX *number format* (an XLSX cell keeps the
document's exact value; only its display is rounded). CSV and JSON write the exact Decimal.

- :func:`minor_unit` — the decimals of a currency's minor unit (ISO 4217): 2 by default; 0 for zero-decimal
  currencies such as JPY and KRW, 3 for BHD, KWD, …, 4 for the unidades de fomento (:data:`MINOR_UNITS`).
- :func:`round_money` — the amount rounded half-even (banker's rounding: ``0.125`` → ``0.12``, ``0.135`` →
  ``0.14``) to that unit; a result of zero is never negative (``-0.004`` → ``0.00``).
- :func:`display_money` — that rounded amount as text: ``1234.567`` USD → ``1,234.57``; ``1234.5`` JPY →
  ``1,234``.
- :func:`display_cell` — one table cell as text (money rounded as above; percent, integer, date as
  :func:`~cloudoptima.reports.document.format_cell`).
- :func:`xlsx_money_format` — the spreadsheet number format showing the same number of decimals.

Totals are computed from the exact values (:meth:`~cloudoptima.reports.document.Table.totals_row`) and only
then rounded for display, so a displayed total can differ by a cent from the sum of the displayed rows; it
never differs from the exact total rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.reports.document import Cell, ColumnKind, format_cell

MINOR_UNITS: dict[str, int] = {
    # zero-decimal currencies (ISO 4217 minor unit 0)
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    # three-decimal currencies
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    # four-decimal units of account
    **dict.fromkeys(("CLF", "UYW"), 4),
}
"""Currencies whose minor unit is not 2 decimals (ISO 4217); every other currency has 2."""

DEFAULT_MINOR_UNIT = 2


def minor_unit(currency: str) -> int:
    """How many decimals ``currency``'s minor unit has (``"JPY"`` → 0, ``"USD"`` → 2, ``"KWD"`` → 3)."""
    return MINOR_UNITS.get(currency.upper(), DEFAULT_MINOR_UNIT)


def round_money(value: Decimal, currency: str) -> Decimal:
    """``value`` rounded half-even to ``currency``'s minor unit; zero is returned unsigned."""
    rounded = value.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_EVEN)
    return abs(rounded) if rounded.is_zero() else rounded


def display_money(value: Decimal, currency: str) -> str:
    """``value`` rounded to ``currency``'s minor unit with thousands separators, e.g. ``-1,234.57``."""
    return format(round_money(value, currency), ",f")


def display_cell(kind: ColumnKind, value: Cell, currency: str) -> str:
    """One cell as report text: money via :func:`display_money`, anything else as ``format_cell``."""
    if kind == "money" and isinstance(value, Decimal):
        return display_money(value, currency)
    return format_cell(kind, value)


def xlsx_money_format(currency: str) -> str:
    """The XLSX number format of money in ``currency``: thousands separators, the currency's decimals and its
    code, e.g. ``#,##0.00 "USD";-#,##0.00 "USD"`` or ``#,##0 "JPY";-#,##0 "JPY"``."""
    decimals = minor_unit(currency)
    number = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f'{number} "{currency}";-{number} "{currency}"'


__all__ = [
    "DEFAULT_MINOR_UNIT",
    "MINOR_UNITS",
    "display_cell",
    "display_money",
    "minor_unit",
    "round_money",
    "xlsx_money_format",
]
