"""What changed in the database, per organisation, up to the moment a request arrived: the list cache's feed.

Migration ``0042_change_feed`` makes every committed write to the tables the cached lists read notify channel
``cloudoptima_data`` with the organisation's id (``*``: every organisation). :class:`ChangeFeed` listens on one
connection of its own and keeps a counter per organisation; a cached answer is filed under the counter it was
computed at, so a later change makes it unreachable.

Contract:
- :meth:`ChangeFeed.catch_up` returns the feed's state once every notification of a transaction that committed
  *before the call* has been counted, or None when the feed cannot tell (no connection: the caller must not
  use or fill a cache). It sends one round trip (``SELECT 1``) on the listening connection: PostgreSQL sends a
  listening session the notifications of transactions committed before it reads a command ahead of that
  command's answer, and psycopg hands them to the handler while it reads the answer. Concurrent callers share
  round trips: a caller waits for the first round trip that *starts* after it called.
- :class:`FeedState` is ``(epoch, version)``: ``epoch`` changes whenever counting restarts (a new connection,
  a ``*`` notification), so versions of different epochs are never compared; ``version`` is the organisation's
  counter.
- A new connection counts only once a notification it sent itself has come back (a transaction-mode pooler
  between the gateway and Postgres would lose them: then there is no feed, and no list caching).
- A lost connection is reconnected by the next ``catch_up`` (at most once a second); answers are None meanwhile.
- ``keep_draining`` runs a round trip every ``idle_s`` so notifications never pile up on the server while no
  request comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from sqlalchemy.engine import make_url

CHANNEL: Final = "cloudoptima_data"
APPLICATION_NAME: Final = "cloudoptima-change-feed"
PROBE: Final = "probe:"
"""Payload prefix of the notification a new connection sends itself to prove it hears the channel."""
RETRY_S: Final = 1.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedState:
    """Where the feed stood for one organisation (see module contract)."""

    epoch: int
    version: int


def libpq_url(database_url: str) -> str:
    """The libpq form of the SQLAlchemy ``database_url`` (driver name dropped, query options kept)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeFeed:
    """Counts committed changes per organisation from ``cloudoptima_data`` notifications (module contract)."""

    def __init__(self, database_url: str, *, idle_s: float = 1.0) -> None:
        self._url = libpq_url(database_url)
        self._idle_s = idle_s
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._epoch = 0
        self._versions: dict[str, int] = {}
        self._round: asyncio.Future[bool] | None = None  # the round trip in flight
        self._next: asyncio.Future[bool] | None = None  # the one callers arriving meanwhile wait for
        self._last_attempt = float("-inf")
        self._drainer: asyncio.Task[None] | None = None
        self._probes: set[str] = set()
        self._runner: asyncio.Task[None] | None = None

    @property
    def application_name(self) -> str:
        """The listening connection's ``application_name`` (operators find it in ``pg_stat_activity``)."""
        return APPLICATION_NAME

    @property
    def epoch(self) -> int:
        return self._epoch

    def _on_notify(self, notify: psycopg.Notify) -> None:
        if notify.payload.startswith(PROBE):
            self._probes.add(notify.payload)
        elif notify.payload == "*" or not notify.payload:
            self._restart()
        else:
            self._versions[notify.payload] = self._versions.get(notify.payload, 0) + 1

    def _restart(self) -> None:
        self._epoch += 1
        self._versions.clear()

    async def _connect(self) -> bool:
        now = time.monotonic()
        if now - self._last_attempt < RETRY_S:
            return False
        self._last_attempt = now
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, application_name=APPLICATION_NAME
            )
            conn.add_notify_handler(self._on_notify)
            await conn.execute(f"LISTEN {CHANNEL}")
            probe = f"{PROBE}{uuid.uuid4().hex}"
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, probe))
            await conn.execute("SELECT 1")
        except psycopg.Error as exc:
            log.warning("change feed: cannot listen on %s: %s", CHANNEL, exc)
            return False
        if probe not in self._probes:  # e.g. a transaction-mode pooler between us and Postgres
            log.error(
                "change feed: a notification sent on this connection did not come back; no list caching"
            )
            await conn.close()
            return False
        self._probes.clear()
        self._restart()  # whatever changed while nobody listened
        self._conn = conn
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._keep_draining())
        return True

    async def _round_trip(self) -> bool:
        if self._conn is None and not await self._connect():
            return False
        assert self._conn is not None
        try:
            await self._conn.execute("SELECT 1")
            return True
        except psycopg.Error as exc:
            log.warning("change feed: connection lost: %s", exc)
            await self._drop()
            return False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._restart()
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def _run_rounds(self) -> None:
        """Run round trips while callers wait: each resolves the future its callers hold."""
        while self._next is not None:
            self._round, self._next = self._next, None
            try:
                ok = await self._round_trip()
            except BaseException as exc:  # cancelled: the waiters must not hang
                self._round.set_exception(exc)
                self._round = None
                raise
            self._round.set_result(ok)
            self._round = None

    async def catch_up(self, organization_id: uuid.UUID) -> FeedState | None:
        """The organisation's state after every earlier commit was counted, or None (see module contract)."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if self._round is None:
                self._runner = asyncio.create_task(self._run_rounds())
        ok = await asyncio.shield(self._next)
        if not ok:
            return None
        return FeedState(self._epoch, self._versions.get(str(organization_id), 0))

    async def _keep_draining(self) -> None:
        while self._conn is not None:
            await asyncio.sleep(self._idle_s)
            if self._round is None and self._next is None and self._conn is not None:
                self._next = asyncio.get_running_loop().create_future()
                await self._run_rounds()

    async def close(self) -> None:
        """Stop listening (the drain task ends with the connection)."""
        drainer, self._drainer = self._drainer, None
        if drainer is not None:
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drainer
        await self._drop()
