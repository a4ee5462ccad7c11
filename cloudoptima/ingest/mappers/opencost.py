"""OpenCost allocation exports: the reader (``cloudoptima.ingest.opencost``) already wrote canonical columns.

Contract: every column of the batch but ``extensions`` is a FOCUS column by its snake_case name; provider is
``other`` (Kubernetes cost is not a cloud provider's bill); ``sources`` name the OpenCost column a FOCUS
column was read from (``TotalCost`` for BilledCost) for validation messages.
"""

from __future__ import annotations

import pyarrow as pa

from cloudoptima.ingest.opencost import OUTPUT_COLUMNS, SOURCE_NAMES
from cloudoptima.ingest.source_columns import MappedBatch, SourceColumns, constant


def map_batch(columns: SourceColumns) -> MappedBatch:
    """FOCUS-named columns of an OpenCost batch (see the module docstring)."""
    table = columns.table
    mapped: dict[str, pa.Array] = {
        name: table.column(name).combine_chunks() for name in OUTPUT_COLUMNS if name != "extensions"
    }
    return MappedBatch(
        columns=mapped,
        provider=constant("other", columns.length),
        extensions=table.column("extensions").combine_chunks(),
        sources=dict(SOURCE_NAMES),
    )
