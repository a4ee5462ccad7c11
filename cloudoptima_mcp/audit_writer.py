"""Group commit of MCP audit rows: concurrent tool calls share one transaction instead of one each.

Contract: ``await writer.write(entry)`` returns once ``entry`` is committed (or raises the error that kept it
from being written), exactly as a call of :func:`cloudoptima.services.audit.record` would; the difference is
that while one batch is being written, the entries of other calls queue up and the next writer commits all of
them with :func:`cloudoptima.services.audit.record_many` (one INSERT and one commit per organisation). One
call alone is a batch of one; under load the database sees one transaction per batch rather than per call,
and a call never waits for more than the batch in flight plus its own. A failed batch raises its error in
every call whose entry it held. The writer serves one event loop at a time (the server's); used from
another loop it starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import anyio.lowlevel
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.services.audit import AuditEntry, record_many


@dataclass
class _Queued:
    entry: AuditEntry
    written: bool = False
    error: Exception | None = None


class AuditWriter:
    """Writes audit entries with group commit (see module contract)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._queue: list[_Queued] = []
        self._lock: anyio.Lock | None = None
        self._loop: object | None = None
        self.batches = 0
        """Transactions written so far (tests and benchmarks read it)."""

    def _lock_for_this_loop(self) -> anyio.Lock:
        loop = anyio.lowlevel.current_token().native_token
        if self._lock is None or loop is not self._loop:
            self._loop, self._lock, self._queue = loop, anyio.Lock(), []
        return self._lock

    async def write(self, entry: AuditEntry) -> None:
        """Commit ``entry``, together with whatever other calls queued meanwhile (see module contract)."""
        lock = self._lock_for_this_loop()
        queued = _Queued(entry)
        self._queue.append(queued)
        async with lock:
            if not queued.written:
                batch, self._queue = self._queue, []
                error: Exception | None = None
                try:
                    await anyio.to_thread.run_sync(record_many, self._factory, [q.entry for q in batch])
                except Exception as exc:  # every caller in the batch gets it
                    error = exc
                self.batches += 1
                for member in batch:
                    member.written, member.error = True, error
        if queued.error is not None:
            raise queued.error
