"""FOCUS 1.0-1.3 files: header names -> snake_case FOCUS columns; the rest -> ``extensions``.

Contract: a header matches a FOCUS column when equal to its FOCUS name or its snake_case name, ignoring case
(``BilledCost``, ``billed_cost``, ``billedcost``). ``x_`` columns and any other non-FOCUS column (for example
the official sample's ``Id``) are kept in ``extensions``; so are the 1.3 columns (AllocatedMethodId,
AllocatedMethodDetails, AllocatedResourceId, AllocatedResourceName, AllocatedTags, ContractApplied,
HostProviderName, ServiceProviderName), under their header names (split cost allocation rows also gain
``allocated_*`` tags, see ``cloudoptima.ingest.split_cost``). Provider is derived from ``ProviderName``;
when a 1.3 file lacks the deprecated ProviderName (PublisherName), ServiceProviderName (HostProviderName)
fills it and is then not repeated in ``extensions``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from cloudoptima.domain.focus import COLUMNS_BY_NAME, FOCUS_COLUMNS
from cloudoptima.domain.focus_13 import DEPRECATED_13
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
    for deprecated, replacement in DEPRECATED_13.items():
        # 1.3 deprecates ProviderName/PublisherName; a file that dropped them still names the provider.
        db_name = COLUMNS_BY_NAME[deprecated].db_name
        source = columns.name_of(replacement)
        if db_name not in mapped and source is not None:
            mapped[db_name] = columns.column(source)
            sources[db_name] = source
    provider_name = mapped.get(COLUMNS_BY_NAME["ProviderName"].db_name)
    if provider_name is None:
        provider_name = pa.nulls(columns.length, pa.string())
    return MappedBatch(
        columns=mapped,
        provider=provider_codes(provider_name),
        extensions=columns.extensions(),
        sources=sources,
    )
