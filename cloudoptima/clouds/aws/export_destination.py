"""Cost exports into an S3-compatible bucket: the boto3 side of
:func:`cloudoptima.services.cost_exports.destinations.s3_destination` (see the contract of
:class:`~cloudoptima.services.cost_exports.destinations.ExportDestination`).

Files are uploaded with ``upload_file`` (one ``PutObject``, or a multipart upload above 64 MiB that S3 shows
only when complete) and a SHA-256 checksum the server verifies; credentials are the given key pair or, when
None, the SDK's usual chain. Failures raise ``ExportDestinationError`` naming the bucket, the key and the code.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cloudoptima.clouds.export_store import ExportDestinationError, S3Credentials
from cloudoptima.domain.cost_exports import MANIFEST_NAME


@dataclass(frozen=True)
class S3Destination:
    """Objects under ``s3://bucket/prefix/`` of an S3-compatible store (module contract)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    credentials: S3Credentials | None = None

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.strip('/')}".rstrip("/")

    def _key(self, folder: str, name: str) -> str:
        parts = [part for part in (self.prefix.strip("/"), folder.strip("/"), name) if part]
        return "/".join(parts)

    def _client(self) -> Any:
        config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=10, read_timeout=60)
        keys: dict[str, Any] = {}
        if self.credentials is not None:
            keys = {
                "aws_access_key_id": self.credentials.access_key_id,
                "aws_secret_access_key": self.credentials.secret_access_key,
                "aws_session_token": self.credentials.session_token,
            }
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config, **keys
        )

    @contextmanager
    def staging(self) -> Iterator[Path]:
        staged = Path(tempfile.mkdtemp(prefix="cloudoptima-export-"))
        try:
            yield staged
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def _call(self, what: str, key: str, action: Any) -> Any:
        try:
            return action()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise ExportDestinationError(
                f"{what} s3://{self.bucket}/{key} failed: {error.get('Code', '')} {error.get('Message', '')}".strip()
            ) from exc
        except (BotoCoreError, OSError) as exc:
            raise ExportDestinationError(f"{what} s3://{self.bucket}/{key} failed: {exc}") from exc

    def withdraw(self, folder: str) -> None:
        key = self._key(folder, MANIFEST_NAME)
        client = self._client()
        self._call("delete", key, lambda: client.delete_object(Bucket=self.bucket, Key=key))

    def publish(self, folder: str, name: str, path: Path) -> None:
        key = self._key(folder, name)
        client = self._client()
        transfer = TransferConfig(multipart_threshold=64 * 1024 * 1024, use_threads=False)
        self._call(
            "upload",
            key,
            lambda: client.upload_file(
                str(path), self.bucket, key, Config=transfer, ExtraArgs={"ChecksumAlgorithm": "SHA256"}
            ),
        )

    def publish_manifest(self, folder: str, content: bytes) -> None:
        key = self._key(folder, MANIFEST_NAME)
        client = self._client()
        self._call(
            "upload",
            key,
            lambda: client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=content,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
            ),
        )

    def prune(self, folder: str, keep: set[str]) -> None:
        prefix = self._key(folder, "") + "/"
        client = self._client()
        listing = self._call(
            "list", prefix, lambda: client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        )
        for item in listing.get("Contents", []):
            key = str(item["Key"])
            name = key[len(prefix) :]
            if "/" not in name and name not in keep | {MANIFEST_NAME}:
                self._call("delete", key, lambda key=key: client.delete_object(Bucket=self.bucket, Key=key))
