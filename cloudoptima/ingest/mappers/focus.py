"""FOCUS 1.0/1.1/1.2 files: header names -> snake_case FOCUS columns; the rest -> ``extensions``.

Contract: a header matches a FOCUS column when equal to its FOCUS name or its snake_case name, ignoring case
(``BilledCost``, ``billed_cost``, ``billedcost``). ``x_`` columns and any other non-FOCUS column (for example
the official sample's ``Id``) are kept in ``extensions``. Provider is derived from ``ProviderName``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from cloudoptima.domain.focus import COLUMNS_BY_NAME, FOCUS_COLUMNS
from cloudoptima.ingest.providers import provider_codes
from cloudoptima.ingest.source_columns import MappedBatch, SourceColumns, column_key

_BY_KEY = {column_key(column.name): column for column in FOCUS_COLUMNS}

REQUIRED_MARKERS: frozenset[str] = frozenset({"billedcost", "chargeperiodstart"})
"""Header keys whose joint presence identifies a FOCUS file."""


def focus_names(header: Iterable[str]) -> set[str]:
    """The FOCUS column names present in ``header``."""
    return {_BY_KEY[column_key(name)].name for name in header if column_key(name) in _BY_KEY}


def map_batch(columns: SourceColumns) -> MappedBatch:
    """FOCUS-named columns of a FOCUS file batch."""
    mapped: dict[str, pa.Array] = {}
    sources: dict[str, str] = {}
    for name in columns.table.column_names:
        column = _BY_KEY.get(column_key(name))
        if column is not None and column.db_name not in mapped:
            mapped[column.db_name] = columns.column(name)
            sources[column.db_name] = name
    provider_name = mapped.get(COLUMNS_BY_NAME["ProviderName"].db_name)
    if provider_name is None:
        provider_name = pa.nulls(columns.length, pa.string())
    return MappedBatch(
        columns=mapped,
        provider=provider_codes(provider_name),
        extensions=columns.extensions(),
        sources=sources,
    )
