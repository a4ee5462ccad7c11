"""Uploading a generated report to an S3 bucket (or an S3-compatible store such as MinIO).

Contract: :class:`S3ReportUploader` ``.upload(key, content, content_type, metadata)`` does one ``PutObject``
with the content's SHA-256 checksum (the server verifies it) through a boto3 client built with the SDK's usual
credential chain, the configured endpoint URL and region. Failures raise :class:`~cloudoptima.clouds.object_store.ObjectUploadError` naming the
bucket and key, with ``retryable`` true for throttling, server errors and network failures and false for
refusals (no such bucket, access denied).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cloudoptima.clouds.object_store import ObjectUploadError

_RETRYABLE_CODES = frozenset(
    {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling"}
)


class S3ReportUploader:
    """Puts report files in ``bucket`` (see module contract)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.bucket = bucket
        self._endpoint_url, self._region = endpoint_url, region

    def _client(self) -> Any:
        config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=10, read_timeout=60)
        return boto3.client("s3", endpoint_url=self._endpoint_url, region_name=self._region, config=config)

    def upload(self, key: str, content: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        """One ``PutObject`` of ``content`` as ``key`` (module contract)."""
        where = f"s3://{self.bucket}/{key}"
        checksum = base64.b64encode(hashlib.sha256(content).digest()).decode()
        try:
            self._client().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=content,
                ContentType=content_type,
                ChecksumSHA256=checksum,
                Metadata=dict(metadata),
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            raise ObjectUploadError(
                f"upload to {where} failed: {code} {error.get('Message', '')}".strip(),
                retryable=status >= 500 or code in _RETRYABLE_CODES,
            ) from exc
        except BotoCoreError as exc:
            raise ObjectUploadError(f"upload to {where} failed: {exc}", retryable=True) from exc
