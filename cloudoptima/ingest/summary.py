"""Running summary of an ingest: row counts, normalisations, quarantine and exact money totals.

Contract:
- Totals are ``Decimal`` sums of the **accepted** rows, keyed by ``(provider, billing_currency)``; a null
  EffectiveCost/ListCost adds nothing. They equal the source column sums exactly (no float anywhere).
- ``rows_read`` counts output candidate rows (source rows plus any rows a mapper derives, e.g. GCP credits);
  ``rows_read == rows_accepted + rows_quarantined``.
- ``quarantine`` keeps at most ``max_quarantine_records`` records; ``quarantine_dropped`` counts the rest.
  ``warnings`` (findings on accepted rows) are capped the same way; ``warnings_by_reason`` counts them all.
- ``findings`` describe FOCUS requirements-model violations on accepted rows (``focus_conformance``; at
  most 1,000 per rule and batch, capped like ``quarantine``); ``findings_by_rule`` counts them all by rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.batch_context import BatchContext, QuarantineRecord

_MAX_PRECISION = 38


@dataclass(slots=True)
class MoneyTotals:
    """Exact sums of the three headline cost columns."""

    billed_cost: Decimal = Decimal(0)
    effective_cost: Decimal = Decimal(0)
    list_cost: Decimal = Decimal(0)


@dataclass(slots=True)
class FileReport:
    """What was detected for one file."""

    path: str
    format: str
    focus_version: str | None


@dataclass(slots=True)
class IngestSummary:
    """See the module docstring."""

    max_quarantine_records: int = 100_000
    files: list[FileReport] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_normalised: int = 0
    rows_quarantined: int = 0
    normalisations: Counter[str] = field(default_factory=Counter)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    quarantine_dropped: int = 0
    warnings: list[QuarantineRecord] = field(default_factory=list)
    warnings_by_reason: Counter[str] = field(default_factory=Counter)
    findings: list[QuarantineRecord] = field(default_factory=list)
    findings_by_rule: Counter[str] = field(default_factory=Counter)
    totals: dict[tuple[str, str], MoneyTotals] = field(default_factory=dict)

    @property
    def detected_formats(self) -> dict[str, str]:
        """File path -> detected format."""
        return {report.path: report.format for report in self.files}

    def total_billed_cost(self, provider: str | None = None, currency: str | None = None) -> Decimal:
        """Sum of BilledCost over accepted rows, optionally for one provider and/or currency."""
        return sum(
            (
                money.billed_cost
                for (row_provider, row_currency), money in self.totals.items()
                if provider in (None, row_provider) and currency in (None, row_currency)
            ),
            Decimal(0),
        )

    def add_batch(self, ctx: BatchContext, accepted: pa.Table) -> None:
        """Fold one validated batch (its context and its accepted rows) into the summary."""
        self.rows_read += ctx.num_rows
        self.rows_accepted += accepted.num_rows
        self.rows_quarantined += ctx.num_rows - accepted.num_rows
        self.rows_normalised += int(pc.sum(ctx.touched).as_py() or 0)
        self.normalisations.update(ctx.normalisations)
        room = max(self.max_quarantine_records - len(self.quarantine), 0)
        self.quarantine.extend(ctx.quarantine[:room])
        self.quarantine_dropped += max(len(ctx.quarantine) - room, 0)
        self.warnings_by_reason.update(record.reason for record in ctx.warnings)
        self.warnings.extend(ctx.warnings[: max(self.max_quarantine_records - len(self.warnings), 0)])
        self._add_totals(accepted)

    def add_findings(self, records: list[QuarantineRecord], counts: Counter[str]) -> None:
        """Fold one batch's FOCUS requirements-model findings (records and per-rule counts) into the summary."""
        self.findings_by_rule.update(counts)
        self.findings.extend(records[: max(self.max_quarantine_records - len(self.findings), 0)])

    def _add_totals(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        keys = pc.fill_null(table.column("billing_currency"), "")
        for attribute in ("billed_cost", "effective_cost", "list_cost"):
            grouped = _group_sums(table.column("provider"), keys, table.column(attribute))
            for key, amount in grouped.items():
                money = self.totals.setdefault(key, MoneyTotals())
                setattr(money, attribute, getattr(money, attribute) + amount)


def _decimal_type(values: pa.ChunkedArray) -> pa.DataType | None:
    """A decimal128 type that holds every value exactly, or None when 38 digits are not enough."""
    dot = pc.find_substring(values, ".")
    length = pc.utf8_length(values)
    has_dot = pc.greater_equal(dot, 0)
    scale = pc.max(pc.if_else(has_dot, pc.subtract(pc.subtract(length, dot), 1), 0)).as_py() or 0
    sign = pc.if_else(pc.starts_with(values, "-"), 1, 0)
    integer = pc.subtract(pc.if_else(has_dot, dot, length), sign)
    digits = pc.max(integer).as_py() or 1
    if scale + digits + 1 > _MAX_PRECISION:
        return None
    return pa.decimal128(_MAX_PRECISION, scale)


def _group_sums(
    providers: pa.ChunkedArray, currencies: pa.ChunkedArray, values: pa.ChunkedArray
) -> dict[tuple[str, str], Decimal]:
    """Exact per-(provider, currency) sums of decimal text (vectorised when 38 digits suffice)."""
    decimal_type = _decimal_type(values) if values.null_count < len(values) else None
    sums: dict[tuple[str, str], Decimal] = {}
    if decimal_type is not None:
        table = pa.table({"p": providers, "c": currencies, "v": values.cast(decimal_type)})
        grouped = table.group_by(["p", "c"]).aggregate([("v", "sum")]).to_pylist()
        for row in grouped:
            sums[(row["p"], row["c"])] = Decimal(row["v_sum"] or 0)
        return sums
    for provider, currency, value in zip(
        providers.to_pylist(), currencies.to_pylist(), values.to_pylist(), strict=True
    ):
        key = (provider, currency)
        sums[key] = sums.get(key, Decimal(0)) + (Decimal(value) if value is not None else Decimal(0))
    return sums
