"""What cost-export destinations share without importing any SDK: their error and S3 credentials.

The destinations are :mod:`cloudoptima.services.cost_exports.destinations` (local folder) and
``cloudoptima.clouds.aws.export_destination`` (S3-compatible bucket, loaded by name).
"""

from __future__ import annotations

from dataclasses import dataclass


class ExportDestinationError(RuntimeError):
    """Writing to an export destination failed (the text names where and why)."""


@dataclass(frozen=True)
class S3Credentials:
    """An access key pair (None on a destination: the SDK's usual credential chain)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return f"S3Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"
