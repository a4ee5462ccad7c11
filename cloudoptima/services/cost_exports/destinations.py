"""Where an export's files go: a local folder under a configured root, or an S3-compatible bucket.

Contract (:class:`ExportDestination`):
- ``staging()`` gives a private local folder the writer fills (for a local destination it is on the same
  file system as the target, so publishing is a rename); the caller removes it.
- ``withdraw(folder)`` removes the folder's manifest first, so during a re-run no reader sees a manifest
  that describes files being replaced.
- ``publish(folder, name, path)`` makes one staged file visible atomically (rename; S3: a single put, or
  a multipart upload for large files, which S3 shows only when complete).
- ``publish_manifest(folder, content)`` is called last; ``prune(folder, keep)`` then removes files a
  previous run left that the new manifest does not list.
- Failures raise :class:`ExportDestinationError` naming the place and the reason.
- :func:`s3_destination` is the S3-compatible bucket (multipart above 64 MiB, SHA-256 checksums verified by
  the server); :class:`LocalFolderDestination` refuses any path that escapes its root (``..``, absolute paths, symlinks).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from cloudoptima.clouds.export_store import ExportDestinationError, S3Credentials
from cloudoptima.domain.cost_exports import MANIFEST_NAME

__all__ = ["ExportDestinationError", "S3Credentials"]


class ExportPathError(ValueError):
    """A destination path escapes the configured root or is malformed."""


class ExportDestination(Protocol):
    """See the module contract."""

    @property
    def location(self) -> str: ...

    def staging(self) -> Any: ...

    def withdraw(self, folder: str) -> None: ...

    def publish(self, folder: str, name: str, path: Path) -> None: ...

    def publish_manifest(self, folder: str, content: bytes) -> None: ...

    def prune(self, folder: str, keep: set[str]) -> None: ...


def contained_path(root: Path, relative: str) -> Path:
    """``root / relative`` resolved, or :class:`ExportPathError` when it would leave ``root``."""
    if not relative or relative.startswith(("/", "\\")) or "\x00" in relative:
        raise ExportPathError(f"path: must be a relative path under the export root, got {relative!r}")
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise ExportPathError(f"path: {relative!r} escapes the export root")
    return target


@dataclass(frozen=True)
class LocalFolderDestination:
    """Files under ``root / path`` (module contract)."""

    root: Path
    path: str = "."

    @property
    def base(self) -> Path:
        return contained_path(self.root, self.path) if self.path not in ("", ".") else self.root.resolve()

    @property
    def location(self) -> str:
        return str(self.base)

    def _folder(self, folder: str) -> Path:
        return contained_path(self.base, folder)

    @contextmanager
    def staging(self) -> Iterator[Path]:
        try:
            self.base.mkdir(parents=True, exist_ok=True)
            staged = Path(tempfile.mkdtemp(prefix=".export-staging-", dir=self.base))
        except OSError as exc:
            raise ExportDestinationError(f"{self.location}: cannot stage the export: {exc}") from exc
        try:
            yield staged
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def withdraw(self, folder: str) -> None:
        try:
            (self._folder(folder) / MANIFEST_NAME).unlink(missing_ok=True)
        except OSError as exc:
            raise ExportDestinationError(
                f"{self._folder(folder)}: cannot remove the manifest: {exc}"
            ) from exc

    def publish(self, folder: str, name: str, path: Path) -> None:
        target = self._folder(folder)
        try:
            target.mkdir(parents=True, exist_ok=True)
            os.replace(path, target / name)
        except OSError as exc:
            raise ExportDestinationError(f"{target / name}: cannot write: {exc}") from exc

    def publish_manifest(self, folder: str, content: bytes) -> None:
        target = self._folder(folder)
        temporary = target / f".{MANIFEST_NAME}.{uuid.uuid4().hex}"
        try:
            target.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(content)
            os.replace(temporary, target / MANIFEST_NAME)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise ExportDestinationError(f"{target / MANIFEST_NAME}: cannot write: {exc}") from exc

    def prune(self, folder: str, keep: set[str]) -> None:
        target = self._folder(folder)
        for child in target.iterdir() if target.is_dir() else ():
            if child.is_file() and child.name not in keep | {MANIFEST_NAME}:
                child.unlink(missing_ok=True)


def s3_destination(
    bucket: str,
    *,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
    credentials: S3Credentials | None = None,
) -> ExportDestination:
    """The boto3 destination ``s3://bucket/prefix/`` (``cloudoptima.clouds.aws.export_destination``, imported
    now, on first use, so that the services import no SDK)."""
    module = import_module("cloudoptima.clouds.aws.export_destination")
    destination: ExportDestination = module.S3Destination(
        bucket, prefix=prefix, endpoint_url=endpoint_url, region=region, credentials=credentials
    )
    return destination
