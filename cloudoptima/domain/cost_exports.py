"""Cost exports: what is asked for (:class:`ExportRequest`) and what a reader gets (:class:`ExportManifest`).

Contract:
- A request names a dataset, a format (``csv`` | ``parquet``), a partitioning (``month`` | ``day``) and an
  end-exclusive period of UTC days (``start`` < ``end``, at most 366 days); bad input raises a pydantic
  validation error naming the field. ``focus_version`` (``1.2`` | ``1.3``) is the FOCUS version of the
  ``focus_raw`` columns (None means 1.2 there; the other datasets take none).
- The manifest (``manifest.json``, written last) lists every file with its partition, row count, size and
  SHA-256, and the exact ``BilledCost`` totals per currency (plain decimal text) of each file and of the
  whole export, so a reader can verify both the bytes and the money.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ExportFormat = Literal["csv", "parquet"]
ExportPartitioning = Literal["month", "day"]
FocusVersion = Literal["1.2", "1.3"]
FOCUS_DATASET = "focus_raw"
MAX_EXPORT_DAYS = 366
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


class ExportRequest(BaseModel):
    """One export of one dataset over ``[start, end)`` (module contract)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(min_length=1, max_length=64)
    format: ExportFormat = "parquet"
    partition: ExportPartitioning = "month"
    start: date
    end: date
    focus_version: FocusVersion | None = None

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.focus_version is not None and self.dataset != FOCUS_DATASET:
            raise ValueError(
                f"focus_version: only the {FOCUS_DATASET} dataset has a FOCUS version, not {self.dataset}"
            )
        if self.end <= self.start:
            raise ValueError("end: must be after start (the period is end-exclusive)")
        if (self.end - self.start).days > MAX_EXPORT_DAYS:
            raise ValueError(f"end: the period may span at most {MAX_EXPORT_DAYS} days")
        return self

    @property
    def folder(self) -> str:
        """The export's folder under the destination: ``<dataset>/<start>_<end>`` (a re-run replaces it);
        ``focus_raw_1.3/...`` for FOCUS 1.3 columns, so the two versions never replace each other."""
        name = f"{self.dataset}_{self.focus_version}" if self.focus_version == "1.3" else self.dataset
        return f"{name}/{self.start.isoformat()}_{self.end.isoformat()}"


class FolderDestinationSpec(BaseModel):
    """A folder under the organisation's export root (``path`` relative, never escaping it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["folder"] = "folder"
    path: str = Field(default=".", min_length=1, max_length=500)


class S3DestinationSpec(BaseModel):
    """An S3-compatible bucket; credentials by reference to a cloud account of the organisation (its
    encrypted access key pair), or None for the platform's usual SDK credential chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["s3"]
    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
    prefix: str = Field(default="", max_length=500)
    endpoint_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    region: str | None = Field(default=None, max_length=64)
    credentials_account_id: uuid.UUID | None = None


DestinationSpec = Annotated[FolderDestinationSpec | S3DestinationSpec, Field(discriminator="kind")]


class ExportFile(BaseModel):
    """One written file, relative to the manifest's folder."""

    path: str
    partition: str
    rows: int
    bytes: int
    sha256: str
    billed_cost: dict[str, str]
    """Exact ``BilledCost`` sum per currency of the file's rows (plain decimal text)."""


class ExportManifest(BaseModel):
    """The content of ``manifest.json`` (module contract)."""

    manifest_version: int = MANIFEST_VERSION
    organization_id: uuid.UUID
    dataset: str
    description: str
    focus_version: str | None
    format: ExportFormat
    partition: ExportPartitioning
    period_start: date
    period_end: date
    """End-exclusive."""
    generated_at: datetime
    columns: list[str]
    cost_column: str
    currency_column: str
    decimals: str = "plain decimal text, exact (never float)"
    files: list[ExportFile]
    rows: int
    billed_cost: dict[str, str]
    """Exact ``BilledCost`` totals per currency of every file together."""
