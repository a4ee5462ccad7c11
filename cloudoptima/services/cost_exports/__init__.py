"""Cost exports (#21): the organisation's cost data (raw FOCUS rows, the daily rollup) written as CSV or
Parquet partition files with a checksummed ``manifest.json`` to a local folder or an S3-compatible bucket.

:mod:`.datasets` says what each dataset selects, :mod:`.destinations` where files go, :mod:`.service` how one
export runs (streamed, atomic, manifest last, idempotent re-runs).
"""

from cloudoptima.services.cost_exports.datasets import (
    DATASET_NAMES,
    DATASETS,
    FOCUS_13_DATASET,
    FOCUS_EXPORT_VERSION,
    FOCUS_VERSIONS,
)
from cloudoptima.services.cost_exports.destinations import (
    ExportDestination,
    ExportDestinationError,
    ExportPathError,
    LocalFolderDestination,
    S3Credentials,
    s3_destination,
)
from cloudoptima.services.cost_exports.service import (
    ExportError,
    UnknownDatasetError,
    dataset_for,
    file_sha256,
    run_export,
)

__all__ = [
    "DATASETS",
    "DATASET_NAMES",
    "FOCUS_13_DATASET",
    "FOCUS_EXPORT_VERSION",
    "FOCUS_VERSIONS",
    "ExportDestination",
    "ExportDestinationError",
    "ExportError",
    "ExportPathError",
    "LocalFolderDestination",
    "S3Credentials",
    "UnknownDatasetError",
    "dataset_for",
    "file_sha256",
    "run_export",
    "s3_destination",
]
