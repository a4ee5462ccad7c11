"""The report artifact store: generated report files on the local disk, one directory per organisation.

Contract:
- an artifact's key is ``<organisation id>/<report id><suffix>`` and its file
  ``<root>/<organisation id>/<report id><suffix>`` (the root is ``<state dir>/reports``);
- :meth:`ReportStore.write` calls ``write(stream)`` on a temporary file in the same directory, computing the
  SHA-256 and the size of every byte as it passes, then ``fsync`` and renames it into place: the artifact
  appears complete or not at all; on any failure the temporary file is removed and the exception propagates;
- :meth:`ReportStore.open` opens an artifact for reading (:class:`ArtifactMissing` when it is gone);
  :meth:`ReportStore.delete` removes it (missing is fine);
- keys are checked (no path outside the root can be named).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_KEY = re.compile(r"^[0-9a-f\-]{36}/[0-9a-f\-]{36}(\.[a-z]+)+$")


class ArtifactMissing(LookupError):
    """The artifact is not (or no longer) in the store."""


@dataclass(frozen=True)
class StoredArtifact:
    """What :meth:`ReportStore.write` stored: its key, size in bytes and hex SHA-256."""

    key: str
    size_bytes: int
    sha256: str


class _HashingWriter:
    """A binary stream that hashes and counts what passes through to the file below."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.digest.update(view)
        self.size += len(view)
        self._raw.write(view)
        return len(view)

    def flush(self) -> None:
        self._raw.flush()

    def tell(self) -> int:
        return self.size

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._raw.closed


def artifact_key(organization_id: uuid.UUID, report_id: uuid.UUID, suffix: str) -> str:
    """``<organisation id>/<report id><suffix>``."""
    return f"{organization_id}/{report_id}{suffix}"


class ReportStore:
    """Report artifacts under ``root`` (see module contract)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        """The file of ``key``; ``ValueError`` for a key that is not one this store makes."""
        if not _KEY.match(key):
            raise ValueError(f"artifact_key: {key!r} is not a report artifact key")
        return self.root / key

    def write(self, key: str, write: Callable[[IO[bytes]], object]) -> StoredArtifact:
        """Store what ``write(stream)`` writes as ``key``, atomically (module contract)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as raw:
                hashing = _HashingWriter(raw)
                write(hashing)  # type: ignore[arg-type]
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return StoredArtifact(key=key, size_bytes=hashing.size, sha256=hashing.digest.hexdigest())

    def open(self, key: str) -> IO[bytes]:
        """The artifact ``key`` opened for reading (the caller closes it); :class:`ArtifactMissing` if gone."""
        try:
            return self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise ArtifactMissing(f"report artifact {key} is not in the store") from exc

    def read(self, key: str) -> bytes:
        """The whole artifact ``key`` (for attachments and uploads)."""
        with self.open(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the artifact ``key`` (nothing happens if it is already gone)."""
        self.path(key).unlink(missing_ok=True)
