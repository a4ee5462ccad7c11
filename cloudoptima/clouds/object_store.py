"""Object stores reports are uploaded to, without importing any SDK: the uploader protocol and its error.

The S3 implementation is ``cloudoptima.clouds.aws.report_upload.S3ReportUploader``, loaded by name through
:func:`s3_report_uploader` so that importing this module (and the services that use it) pulls in no SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Protocol


class ObjectUploadError(RuntimeError):
    """An upload failed (the text names the bucket, the key and the reason); ``retryable`` tells whether a
    later attempt may pass (throttling, server and network errors) or not (no bucket, access denied)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ObjectUploader(Protocol):
    """Puts one object in its bucket, or raises :class:`ObjectUploadError`."""

    bucket: str

    def upload(self, key: str, content: bytes, content_type: str, metadata: Mapping[str, str]) -> None: ...


def s3_report_uploader(bucket: str, *, endpoint_url: str | None, region: str | None) -> ObjectUploader:
    """The boto3 S3 uploader for ``bucket`` (imported now, on first use)."""
    module = import_module("cloudoptima.clouds.aws.report_upload")
    uploader: ObjectUploader = module.S3ReportUploader(bucket, endpoint_url=endpoint_url, region=region)
    return uploader
