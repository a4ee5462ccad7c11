"""Resources API bodies (seed §3.2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from cloudoptima_gateway.schemas.common import Money, Schema, StrictBody


class Utilization(Schema):
    cpu_avg: float | None
    memory_avg: float | None
    network_gb: float | None


class ComputeResourceOut(Schema):
    id: str
    name: str | None
    provider: str
    type: str | None
    status: str | None
    region: str | None
    monthly_cost: Money | None
    utilization: Utilization
    tags: dict[str, Any]
    optimization_score: int = Field(
        ge=0,
        le=100,
        description="How much of what the instance pays for it needs (100 = nothing to win): the lower of its "
        "utilisation fit (p99 CPU and memory against the rightsizing ceiling of 80 %) and 100 x (1 - open "
        "recommendation savings / monthly cost); see score_basis.",
    )
    score_basis: Literal["utilisation", "recommendations", "stored"] = Field(
        default="recommendations",
        description="utilisation: both parts (running, >= 24 hourly CPU samples); recommendations: savings "
        "part only (stopped or too little history); stored: a score imported with the inventory.",
    )
    recommendations_count: int


class Pagination(Schema):
    page: int
    page_size: int
    total: int
    total_pages: int


class ComputeList(Schema):
    resources: list[ComputeResourceOut]
    pagination: Pagination


class VolumeOut(Schema):
    id: str
    provider: str
    type: str | None
    size_gb: int | None
    iops: int | None
    attached_to: str | None
    monthly_cost: Money | None
    age_days: int
    snapshot_count: int


class StorageList(Schema):
    volumes: list[VolumeOut]
    pagination: Pagination


TAG_KEY = r"^[A-Za-z0-9_.:/=+@ -]{1,128}$"


class BulkTagIn(StrictBody):
    resource_ids: list[str] = Field(min_length=1, max_length=500)
    tags: dict[str, str] = Field(min_length=1, max_length=50)
    overwrite: bool = False

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for key, tag in value.items():
            if not re.match(TAG_KEY, key) or key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} is not allowed")
            if len(tag) > 256:
                raise ValueError(f"tag {key!r} value exceeds 256 characters")
        return value


class TagFailure(Schema):
    resource_id: str
    error: str


class BulkTagOut(Schema):
    success: bool
    updated_count: int
    failed: list[TagFailure]
    approval_required: bool = False
    execution_id: str | None = Field(default=None, description="set when the tags wait for an approval")


class UtilisationAlertOut(Schema):
    cloud_account_id: uuid.UUID
    resource_id: str
    metric: str
    at: datetime = Field(description="The hour (UTC) the anomaly or change started.")
    value: float
    expected: float
    score: float = Field(description="0-1; 0.5 is the alert threshold.")
    kind: Literal["anomaly", "change"]
    direction: Literal["up", "down"]


class UtilisationAlertList(Schema):
    start: datetime
    end: datetime
    alerts: list[UtilisationAlertOut]
