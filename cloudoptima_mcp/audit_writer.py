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

from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.services.audit import AuditEntry, record_many


@dataclass
class _Batch:
    entries: list[AuditEntry] = field(default_factory=list)
    done: anyio.Event = field(default_factory=anyio.Event)
    error: Exception | None = None


class AuditWriter:
    """Writes audit entries with group commit (see module contract).

    At most two batches exist: the one being written and the one collecting entries meanwhile, whose first
    call writes it once the first is done; the others wait for their batch's event (one wake-up each).
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._open: _Batch | None = None
        self._in_flight: _Batch | None = None
        self._loop: object | None = None
        self.batches = 0
        """Transactions written so far (tests and benchmarks read it)."""

    def _for_this_loop(self) -> None:
        loop = anyio.lowlevel.current_token().native_token
        if loop is not self._loop:
            self._loop, self._open, self._in_flight = loop, None, None

    async def write(self, entry: AuditEntry) -> None:
        """Commit ``entry``, together with whatever other calls queued meanwhile (see module contract)."""
        self._for_this_loop()
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
        batch.entries.append(entry)
        if len(batch.entries) > 1:
            await batch.done.wait()
        else:  # the first entry of a batch writes it, after the batch in flight
            previous = self._in_flight
            if previous is not None:
                await previous.done.wait()
            self._open, self._in_flight = None, batch  # later entries start the next batch
            try:
                await anyio.to_thread.run_sync(record_many, self._factory, batch.entries)
            except Exception as exc:  # every caller in the batch gets it
                batch.error = exc
            finally:
                self.batches += 1
                batch.done.set()
        if batch.error is not None:
            raise batch.error
