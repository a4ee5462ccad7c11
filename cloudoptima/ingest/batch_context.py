"""Per-batch bookkeeping shared by mappers and the validator: rejected rows, quarantine, normalisation counts.

Contract:
- A ``BatchContext`` covers the rows of one raw batch (possibly expanded by a mapper, e.g. GCP credits).
- ``reject(mask, column, reason, raw)`` marks rows bad and appends one ``QuarantineRecord`` per row where
  ``mask`` is true; a bad row is never emitted, whatever else is valid in it.
- ``warn(mask, column, reason, raw)`` records a data-quality finding for rows that are still accepted.
- ``normalised(kind, mask)`` counts cells whose value was rewritten (``mask`` true) under ``kind`` and
  marks their rows as normalised.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """One rejected cell: where it is, why it was rejected and the raw text."""

    file: str
    line: int
    column: str
    reason: str
    raw_value: str | None


class BatchContext:
    """Mutable state of one batch; see the module docstring."""

    def __init__(self, file: str, lines: pa.Int64Array) -> None:
        self.file = file
        self.lines = lines
        self.bad: pa.BooleanArray = pa.repeat(False, len(lines))
        self.touched: pa.BooleanArray = pa.repeat(False, len(lines))
        self.normalisations: Counter[str] = Counter()
        self.quarantine: list[QuarantineRecord] = []
        self.warnings: list[QuarantineRecord] = []

    @property
    def num_rows(self) -> int:
        """Rows currently covered (after any expansion)."""
        return len(self.lines)

    def reject(self, mask: pa.Array, column: str, reason: str, raw: pa.Array | None) -> None:
        """Reject the rows where ``mask`` is true (nulls in ``mask`` count as false)."""
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            self.quarantine.extend(self._records(mask, column, reason, raw))
            self.bad = pc.or_(self.bad, mask)

    def warn(self, mask: pa.Array, column: str, reason: str, raw: pa.Array | None) -> None:
        """Record a finding for the rows where ``mask`` is true, without rejecting them."""
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            self.warnings.extend(self._records(mask, column, reason, raw))

    def _records(
        self, mask: pa.Array, column: str, reason: str, raw: pa.Array | None
    ) -> list[QuarantineRecord]:
        indices = pc.indices_nonzero(mask)
        lines = pc.take(self.lines, indices).to_pylist()
        values: list[object] = (
            [None] * len(lines) if raw is None else pc.take(raw, indices).cast(pa.string()).to_pylist()
        )
        return [
            QuarantineRecord(self.file, int(line), column, reason, None if value is None else str(value))
            for line, value in zip(lines, values, strict=True)
        ]

    def normalised(self, kind: str, mask: pa.Array) -> None:
        """Count the cells where ``mask`` is true as normalised under ``kind``."""
        mask = pc.fill_null(mask, False)
        count = pc.sum(mask).as_py() or 0
        if count:
            self.normalisations[kind] += int(count)
            self.touched = pc.or_(self.touched, mask)

    def expand(self, parent_rows: pa.Array) -> None:
        """Append derived rows (one per index in ``parent_rows``) that inherit line, state and marks."""
        self.lines = pa.concat_arrays([self.lines, pc.take(self.lines, parent_rows)])
        self.bad = pa.concat_arrays([self.bad, pc.take(self.bad, parent_rows)])
        self.touched = pa.concat_arrays([self.touched, pc.take(self.touched, parent_rows)])
