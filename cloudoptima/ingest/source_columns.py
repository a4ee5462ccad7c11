"""Access to the cleaned columns of one raw batch, and the ``MappedBatch`` every mapper returns.

Contract:
- ``SourceColumns.get(*names)`` returns the first present column among ``names`` (matched case-insensitively
  and ignoring ``_``, ``/``, ``.``, ``-`` and spaces), cleaned by ``cells.clean_strings`` (cached), or None.
  Every column read through ``get`` is marked used; ``extensions()`` turns the unused ones into a JSON object
  column, so no source value is ever dropped silently.
- ``json_objects(keys, arrays)`` builds one JSON object per row from string columns, skipping nulls;
  rows with no values are null. Escaping is vectorised; control characters fall back to ``json.dumps``.
- A ``MappedBatch`` holds FOCUS columns by snake_case name (decimal/text columns as strings, date/time
  columns as strings or already-parsed timestamps), the normalised provider and optional ``extensions``,
  optionally ``negative_ok``: rows whose native line type is a documented negative amount, and
  ``sources``: the source header each FOCUS column was read from (``billed_cost`` ->
  ``lineItem/UnblendedCost``), which quarantine records and messages name instead of the FOCUS column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.batch_context import BatchContext
from cloudoptima.ingest.cells import clean_strings, map_distinct


def column_key(name: str) -> str:
    """Spelling-insensitive key of a header name: ``lineItem/UnblendedCost`` == ``line_item_unblended_cost``."""
    return re.sub(r"[\s_/.\-]", "", name).lower()


@dataclass(slots=True)
class MappedBatch:
    """FOCUS-named columns of one batch, before validation; see the module docstring."""

    columns: dict[str, pa.Array]
    provider: pa.Array
    extensions: pa.Array | None = None
    negative_ok: pa.Array | None = None
    sources: dict[str, str] = field(default_factory=dict)


def _escape(array: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring_regex(array, r"[\x00-\x1f]")).as_py():
        return map_distinct(array, lambda text: json.dumps(text, ensure_ascii=False)[1:-1])
    escaped = pc.replace_substring(array, "\\", "\\\\")
    return pc.replace_substring(escaped, '"', '\\"')


def json_objects(keys: Sequence[str], arrays: Sequence[pa.Array], length: int) -> pa.Array:
    """One JSON object of string values per row (null when the row has no non-null value)."""
    fragments = []
    for key, array in zip(keys, arrays, strict=True):
        if array.null_count == len(array):
            continue
        prefix = "," + json.dumps(key, ensure_ascii=False) + ':"'
        fragments.append(pc.binary_join_element_wise(prefix, _escape(array.cast(pa.string())), '"', ""))
    if not fragments:
        return pa.nulls(length, pa.string())
    # Each fragment starts with ","; nulls join as "" (null_handling="skip" drops rows in pyarrow 26).
    body = pc.binary_join_element_wise(*fragments, "", null_handling="replace", null_replacement="")
    objects = pc.binary_join_element_wise("{", pc.utf8_slice_codeunits(body, 1), "}", "")
    return pc.if_else(pc.equal(body, ""), pa.scalar(None, pa.string()), objects)


def constant(value: str | None, length: int) -> pa.Array:
    """A string column of ``length`` copies of ``value``."""
    return pa.nulls(length, pa.string()) if value is None else pa.repeat(value, length)


class SourceColumns:
    """Cleaned, usage-tracked view of a raw batch; see the module docstring."""

    def __init__(self, table: pa.Table, ctx: BatchContext) -> None:
        self.table = table
        self.ctx = ctx
        self.length = table.num_rows
        self._names: dict[str, str] = {}
        for name in table.column_names:
            self._names.setdefault(column_key(name), name)
        self._cleaned: dict[str, pa.Array] = {}
        self.used: set[str] = set()

    def name_of(self, *candidates: str) -> str | None:
        """The source header name of the first present candidate, or None."""
        for candidate in candidates:
            name = self._names.get(column_key(candidate))
            if name is not None:
                return name
        return None

    def column(self, name: str) -> pa.Array:
        """The cleaned column ``name`` (exact header name), marked used."""
        self.used.add(name)
        cached = self._cleaned.get(name)
        if cached is None:
            raw = self.table.column(name).combine_chunks()
            cached = clean_strings(raw, self.ctx) if pa.types.is_string(raw.type) else raw
            self._cleaned[name] = cached
        return cached

    def source_names(self, candidates: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
        """FOCUS column -> the header it is read from: the first present candidate, else the first one."""
        return {column: self.name_of(*names) or names[0] for column, names in candidates.items()}

    def get(self, *candidates: str) -> pa.Array | None:
        """The cleaned first present column among ``candidates``, or None."""
        name = self.name_of(*candidates)
        return None if name is None else self.column(name)

    def text(self, *candidates: str) -> pa.Array:
        """Like ``get`` but an all-null column when absent."""
        found = self.get(*candidates)
        return constant(None, self.length) if found is None else found

    def starting_with(self, prefix: str) -> list[str]:
        """Header names starting with ``prefix`` (case-insensitive), in header order."""
        lower = prefix.lower()
        return [name for name in self.table.column_names if name.lower().startswith(lower)]

    def mark_used(self, names: Iterable[str]) -> None:
        """Exclude ``names`` from ``extensions()`` (they were consumed by other means)."""
        self.used.update(names)

    def extensions(self) -> pa.Array:
        """JSON object of every column not read so far, keyed by its source header name."""
        names = [name for name in self.table.column_names if name not in self.used]
        arrays = [self.column(name) for name in names]
        return json_objects(names, arrays, self.length)


def coalesce(*arrays: pa.Array | None) -> pa.Array | None:
    """First non-null value per row across the present arrays (None when none is present)."""
    present = [array for array in arrays if array is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else pc.coalesce(*present)


def lookup(array: pa.Array, table: dict[str, str], default: str | None) -> pa.Array:
    """Map each value through ``table`` (exact key, then lower-case key); ``default`` when absent."""
    lowered = {key.lower(): value for key, value in table.items()}
    return map_distinct(array, lambda value: table.get(value, lowered.get(value.lower(), default)))
