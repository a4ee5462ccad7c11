"""``/v1/notifications/digest`` bodies and replies: the caller's own daily or weekly digest subscription
(``cloudoptima.services.digests``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from cloudoptima_gateway.schemas.common import Schema


class DigestIn(Schema):
    """Create or replace the caller's digest; every field is checked by the digest service, which names the
    field at fault."""

    model_config = ConfigDict(extra="forbid")

    frequency: str = Field(description="daily or weekly.", max_length=16)
    day_of_week: int | None = Field(
        default=None, description="Weekly only: 0 = Monday … 6 = Sunday, in the digest's time zone."
    )
    time_of_day: str = Field(default="08:00", description="Local send time, HH:MM (24 h).", max_length=16)
    timezone: str = Field(
        default="UTC", description="IANA time zone name, e.g. Europe/Berlin.", max_length=100
    )
    channel: str = Field(
        default="email", description="email (to the caller's address) or in_app.", max_length=16
    )


class DigestOut(Schema):
    id: uuid.UUID
    frequency: str
    day_of_week: int | None
    time_of_day: str
    timezone: str
    channel: str
    last_sent_at: datetime | None = Field(description="When the last digest was sent; null before the first.")
    last_attempt_at: datetime | None = Field(description="When the last failed attempt was; null if none.")
    last_error: str | None = Field(
        description="Why the last attempt failed (it is retried on the next pass); null after a success."
    )
    next_send_at: datetime = Field(description="When the next digest is due (UTC).")
    created_at: datetime
