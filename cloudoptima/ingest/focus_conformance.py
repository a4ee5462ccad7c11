"""Check one validated FOCUS batch against the requirements model and the 1.3 column rules.

Contract:
- ``check_batch(...)`` evaluates every ROW rule of ``requirements_model.load_model()`` whose columns are all
  in the file, plus ``RULES_13`` on 1.3 files, on the rows ``validation`` accepted.
- A violated blocking rule raises ``BillingFileError(file, "<rule id>: <requirement text>", line=<first
  violating line>, column=<source header>)``: the file's cost would be wrong, and the loader treats the
  file as one transaction, so nothing of it is written.
- Every other violation is counted per rule and described by a ``QuarantineRecord`` (file, line, source
  column, reason ``"<rule id>: <requirement text>"``, raw value; at most ``MAX_RECORDS_PER_RULE`` per rule
  and batch); the rows stay accepted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.domain.focus import COLUMNS_BY_DB_NAME, ColumnType
from cloudoptima.domain.focus_13 import COLUMNS_13_BY_NAME, FOCUS_13
from cloudoptima.ingest.batch_context import BatchContext, QuarantineRecord
from cloudoptima.ingest.errors import BillingFileError
from cloudoptima.ingest.focus_versions import columns_13
from cloudoptima.ingest.requirements_model import RequirementsModel, violations


@dataclass(frozen=True, slots=True)
class ColumnRule13:
    """A rule of a 1.3 column definition, checked on the cleaned source text."""

    rule_id: str
    column: str
    text: str
    broken: Callable[[pa.Array], pa.Array]


MAX_RECORDS_PER_RULE = 1000
"""Findings kept per rule and batch (all are counted)."""


@dataclass(slots=True)
class BatchFindings:
    """Findings of one batch: up to ``MAX_RECORDS_PER_RULE`` records per rule, and every one counted."""

    records: list[QuarantineRecord] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, rule_id: str, count: int, records: list[QuarantineRecord]) -> None:
        """Record ``count`` violations of ``rule_id`` (``records`` describe some of them)."""
        self.counts[rule_id] += count
        self.records.extend(records)


def _not_json_object(values: pa.Array) -> pa.Array:
    def bad(text: str | None) -> bool:
        if text is None:
            return False
        try:
            return not isinstance(json.loads(text), dict)
        except ValueError:
            return True

    return pa.array([bad(value) for value in values.to_pylist()], pa.bool_())


def _applied_element_ok(element: object) -> bool:
    if not isinstance(element, dict):
        return False
    if not all(isinstance(element.get(key), str) for key in ("ContractId", "ContractCommitmentId")):
        return False
    cost, quantity = (
        element.get("ContractCommitmentAppliedCost"),
        element.get("ContractCommitmentAppliedQuantity"),
    )
    if cost is None and quantity is None:
        return False
    return quantity is None or isinstance(element.get("ContractCommitmentAppliedUnit"), str)


def _bad_contract_applied(values: pa.Array) -> pa.Array:
    """JSON objects that break the ContractAppliedObject schema (non-JSON is the ``-json`` rule's finding)."""

    def bad(text: str | None) -> bool:
        if text is None:
            return False
        try:
            value = json.loads(text)
        except ValueError:
            return False
        if not isinstance(value, dict):
            return False
        elements = value.get("Elements")
        return not (isinstance(elements, list) and elements and all(_applied_element_ok(e) for e in elements))

    return pa.array([bad(value) for value in values.to_pylist()], pa.bool_())


RULES_13: tuple[ColumnRule13, ...] = (
    tuple(
        ColumnRule13(
            f"{column.name}-1.3-json", column.name, f"{column.name} MUST be a JSON object", _not_json_object
        )
        for column in COLUMNS_13_BY_NAME.values()
        if column.type is ColumnType.JSON
    )
    + tuple(
        ColumnRule13(f"{column.name}-1.3-null", column.name, f"{column.name} MUST NOT be null", pc.is_null)
        for column in COLUMNS_13_BY_NAME.values()
        if not column.nullable
    )
    + (
        ColumnRule13(
            "ContractApplied-1.3-object",
            "ContractApplied",
            "ContractApplied MUST conform to ContractAppliedObject: a non-empty Elements array whose objects carry "
            "ContractId, ContractCommitmentId and ContractCommitmentAppliedCost or ContractCommitmentAppliedQuantity "
            "(with ContractCommitmentAppliedUnit)",
            _bad_contract_applied,
        ),
    )
)
"""From the 1.3 column definitions (type JSON object; Mandatory columns that allow no nulls; the
ContractAppliedObject schema of ``contractapplied.md``)."""


def _clean(array: pa.Array) -> pa.Array:
    text = pc.ascii_trim_whitespace(array.cast(pa.string()))
    empty = pc.is_in(text, value_set=pa.array(["", "NULL", "null"]))
    return pc.if_else(pc.fill_null(empty, False), pa.scalar(None, pa.string()), text)


def _records(
    ctx: BatchContext, mask: pa.Array, column: str, reason: str, raw: pa.Array | None
) -> list[QuarantineRecord]:
    indices = pc.indices_nonzero(mask)[:MAX_RECORDS_PER_RULE]
    lines = pc.take(ctx.lines, indices).to_pylist()
    values = [None] * len(lines) if raw is None else pc.take(raw.cast(pa.string()), indices).to_pylist()
    return [
        QuarantineRecord(ctx.file, int(line), column, reason, value)
        for line, value in zip(lines, values, strict=True)
    ]


def check_batch(
    model: RequirementsModel,
    validated: Mapping[str, pa.Array],
    sources: Mapping[str, str],
    raw: pa.Table,
    ctx: BatchContext,
    version: str | None,
) -> BatchFindings:
    """Findings of one batch (see the module docstring); raises on a blocking violation."""
    columns = {
        COLUMNS_BY_DB_NAME[name].name: values
        for name, values in validated.items()
        if name in COLUMNS_BY_DB_NAME and name in sources
    }
    label = {
        COLUMNS_BY_DB_NAME[name].name: source
        for name, source in sources.items()
        if name in COLUMNS_BY_DB_NAME
    }
    accepted = pc.invert(ctx.bad)
    length = ctx.num_rows
    findings = BatchFindings()
    for rule in model.rules:
        broken = violations(rule, columns, model.currencies, length)
        if broken is None:
            continue
        broken = pc.and_(broken, accepted)
        if not pc.any(broken).as_py():
            continue
        column = label.get(rule.column, rule.column)
        reason = f"{rule.rule_id}: {rule.text}"
        records = _records(ctx, broken, column, reason, columns.get(rule.column))
        if rule.blocking:
            first = records[0]
            raise BillingFileError(
                ctx.file, f"{reason} (value {first.raw_value!r})", line=first.line, column=first.column
            )
        findings.add(rule.rule_id, int(pc.sum(broken).as_py() or 0), records)
    if version == FOCUS_13 and raw.num_rows == length:
        for name, header in columns_13(raw.column_names).items():
            source = raw.column(header).combine_chunks()
            if not (pa.types.is_string(source.type) or pa.types.is_large_string(source.type)):
                continue  # a typed Parquet column (e.g. a map for AllocatedTags) is not JSON text to check
            values = _clean(source)
            for rule13 in RULES_13:
                if rule13.column == name:
                    broken = pc.and_(pc.fill_null(rule13.broken(values), False), accepted)
                    if pc.any(broken).as_py():
                        reason = f"{rule13.rule_id}: {rule13.text}"
                        count = int(pc.sum(broken).as_py() or 0)
                        findings.add(rule13.rule_id, count, _records(ctx, broken, header, reason, values))
    return findings
