"""Billing-file readers (FOCUS and native formats), validation and normalisation.

Public API: ``open_billing_source(path, fmt="auto", batch_rows=50_000) -> BillingSource``; iterate
``BillingSource.batches()`` for ``pyarrow.Table`` batches in ``CANONICAL_SCHEMA`` and read
``BillingSource.summary`` (``IngestSummary``) afterwards. Whole-file defects raise ``BillingFileError``.
"""

from cloudoptima.ingest.batch_context import QuarantineRecord
from cloudoptima.ingest.errors import BillingFileError
from cloudoptima.ingest.formats import BillingFormat
from cloudoptima.ingest.schema import CANONICAL_COLUMNS, CANONICAL_SCHEMA, DECIMAL_COLUMNS
from cloudoptima.ingest.source import BillingSource, open_billing_source
from cloudoptima.ingest.summary import FileReport, IngestSummary, MoneyTotals

__all__ = [
    "CANONICAL_COLUMNS",
    "CANONICAL_SCHEMA",
    "DECIMAL_COLUMNS",
    "BillingFileError",
    "BillingFormat",
    "BillingSource",
    "FileReport",
    "IngestSummary",
    "MoneyTotals",
    "QuarantineRecord",
    "open_billing_source",
]
