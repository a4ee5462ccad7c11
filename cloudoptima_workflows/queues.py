"""Task queues: the spec's Celery queues become Temporal task queues (seed §7.1)."""

from __future__ import annotations

from typing import Final

COLLECTION: Final = "collection"
PROCESSING: Final = "processing"
ML: Final = "ml"
REMEDIATION: Final = "remediation"
REPORTS: Final = "reports"
ALL_QUEUES: Final = (COLLECTION, PROCESSING, ML, REMEDIATION, REPORTS)
