"""The persisted, living sandbox estate: generated files plus an append-only journal of executed actions.

Layout of a state directory::

    state_dir/store.json        {"format", "spec"}: what was generated (written last, so it marks completion)
    state_dir/estate/           the files of ``writer.write_estate`` (FOCUS csv.gz, inventory, iam, …)
    state_dir/actions.jsonl     one ``JournalEntry`` JSON per line, append-only, fsync'ed
    state_dir/actions.lock      the ``fcntl`` lock every writer of the journal holds

Contract:

- The current estate is ``load_estate(state_dir/estate)`` with every journal entry's ``applied`` sandbox
  actions replayed through ``apply_action`` in journal order; replay is deterministic, so every process sees
  the same estate for the same journal.
- The loaded estate is cached per process and per directory; each read stats the journal and applies only
  the lines appended since (a shrunk journal or a re-created estate triggers a full reload). Readers never
  lock; they only consume complete lines, and writers append whole lines under the lock.
- ``SandboxEstateStore.locked()`` serialises writers across threads (a per-directory ``threading.Lock``)
  and processes (``fcntl.flock``); inside it, ``view()`` is up to date and ``append()`` is durable
  (written, ``fsync``'ed, then applied to the cache) before it returns. A partial last line (a writer that
  crashed mid-append, never acknowledged) is ignored by readers and cut by the next writer.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from cloudoptima.clouds.protocol import ActionRequest, ActionResult
from cloudoptima.clouds.sandbox.actions import Action, apply_action
from cloudoptima.clouds.sandbox.estate import Estate, EstateSpec
from cloudoptima.clouds.sandbox.generator import (
    DEFAULT_ACCOUNTS,
    DEFAULT_DAYS,
    DEFAULT_END,
    DEFAULT_SEED,
    generate_estate,
)
from cloudoptima.clouds.sandbox.loader import load_estate
from cloudoptima.clouds.sandbox.writer import write_estate
from cloudoptima.domain.inventory import UtcDatetime

STORE_FORMAT = "cloudoptima-sandbox-store/1"
ESTATE_DIR = "estate"
JOURNAL_FILE = "actions.jsonl"
LOCK_FILE = "actions.lock"
STORE_FILE = "store.json"


class JournalEntry(BaseModel):
    """One executed action of one account, as recorded in ``actions.jsonl``.

    ``applied`` are the sandbox actions replayed on load; ``undo`` the generator's restore actions that put
    the changed resources back (used by ``SandboxProvider.undo``). ``undoes`` is the key of the entry this
    one reverted, if it is an undo. ``true_saving_monthly`` is the monthly bill the ``applied`` actions save
    (:func:`cloudoptima.clouds.sandbox.true_saving.true_saving_monthly`; None on entries written before it
    was recorded), the truth realised-savings evals score against.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str
    idempotency_key: str
    request: ActionRequest
    at: UtcDatetime
    result: ActionResult
    applied: tuple[Action, ...]
    undo: tuple[Action, ...] = ()
    undoes: str | None = None
    true_saving_monthly: Decimal | None = None


@dataclass(frozen=True)
class EstateView:
    """The current estate and the journal entries that made it (``by_key`` maps (account, key))."""

    estate: Estate
    entries: tuple[JournalEntry, ...]
    by_key: dict[tuple[str, str], JournalEntry]

    def entry(self, account_id: str, key: str) -> JournalEntry | None:
        """The entry recorded for ``key`` in ``account_id``, or None."""
        return self.by_key.get((account_id, key))


@dataclass
class _Cached:
    stamp: tuple[int, int]
    base: Estate
    offset: int
    view: EstateView


@dataclass
class _Registry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    cached: dict[Path, _Cached] = field(default_factory=dict)
    writers: dict[Path, threading.Lock] = field(default_factory=dict)


_REGISTRY = _Registry()


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _replay(estate: Estate, entries: list[JournalEntry]) -> Estate:
    for entry in entries:
        for action in entry.applied:
            try:
                estate = apply_action(estate, action).estate
            except (KeyError, ValueError) as exc:
                raise RuntimeError(
                    f"journal entry {entry.idempotency_key!r} of {entry.account_id} does not replay: {exc}"
                ) from exc
    return estate


def _fsync_dir(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


class SandboxEstateStore:
    """A state directory holding one generated estate and its actions journal (see the module doc)."""

    def __init__(self, state_dir: Path) -> None:
        """Use :meth:`create` or :meth:`open`; this only records the paths."""
        self.state_dir = state_dir.resolve()
        self.estate_dir = self.state_dir / ESTATE_DIR
        self.journal_path = self.state_dir / JOURNAL_FILE
        self._lock_path = self.state_dir / LOCK_FILE

    @classmethod
    def create(
        cls,
        state_dir: Path,
        seed: int = DEFAULT_SEED,
        accounts: int = DEFAULT_ACCOUNTS,
        days: int = DEFAULT_DAYS,
        end: date = DEFAULT_END,
    ) -> SandboxEstateStore:
        """Generate and write the estate unless an estate with the same spec is already there.

        Idempotent and safe to race: creators serialise on the lock file, the estate is written to a
        temporary folder and renamed into place, and ``store.json`` is written last. Raises ``ValueError``
        when ``state_dir`` holds an estate generated with a different spec.
        """
        spec = EstateSpec(seed=seed, accounts=accounts, days=days, end=end)
        store = cls(state_dir)
        store.state_dir.mkdir(parents=True, exist_ok=True)
        with store.locked():
            existing = store._read_spec()
            if existing is not None:
                if existing != spec:
                    raise ValueError(
                        f"{store.state_dir} holds an estate generated with {existing.model_dump()}, "
                        f"not {spec.model_dump()}"
                    )
                return store
            staging = store.state_dir / f".estate-{os.getpid()}-{threading.get_ident()}"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(store.estate_dir, ignore_errors=True)
            write_estate(generate_estate(seed, accounts, days, end), staging)
            staging.rename(store.estate_dir)
            store.journal_path.unlink(missing_ok=True)
            marker = store.state_dir / f"{STORE_FILE}.tmp"
            payload = {"format": STORE_FORMAT, "spec": spec.model_dump(mode="json")}
            marker.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
            os.replace(marker, store.state_dir / STORE_FILE)
            _fsync_dir(store.state_dir)
        return store

    @classmethod
    def open(cls, state_dir: Path) -> SandboxEstateStore:
        """The store in ``state_dir``; raises ``FileNotFoundError`` when no complete estate is there."""
        store = cls(state_dir)
        if store._read_spec() is None:
            raise FileNotFoundError(f"no sandbox estate in {store.state_dir} (run SandboxEstateStore.create)")
        return store

    def _read_spec(self) -> EstateSpec | None:
        marker = self.state_dir / STORE_FILE
        if not marker.exists() or not (self.estate_dir / "inventory.json").exists():
            return None
        payload = json.loads(marker.read_text(encoding="utf-8"))
        if payload.get("format") != STORE_FORMAT:
            raise ValueError(f"{marker} is not a {STORE_FORMAT} file")
        return EstateSpec.model_validate(payload["spec"])

    @property
    def spec(self) -> EstateSpec:
        """How the stored estate was generated."""
        spec = self._read_spec()
        if spec is None:
            raise FileNotFoundError(f"no sandbox estate in {self.state_dir}")
        return spec

    def view(self) -> EstateView:
        """The current estate (journal replayed), refreshed from disk if the journal grew."""
        with _REGISTRY.lock:
            return self._refresh().view

    def estate(self) -> Estate:
        """Shorthand for ``view().estate``."""
        return self.view().estate

    def _refresh(self) -> _Cached:
        stamp = _stamp(self.estate_dir / "inventory.json")
        cached = _REGISTRY.cached.get(self.state_dir)
        size = self.journal_path.stat().st_size if self.journal_path.exists() else 0
        if cached is None or cached.stamp != stamp or size < cached.offset:
            base = load_estate(self.estate_dir)
            cached = _Cached(stamp, base, 0, EstateView(base, (), {}))
            _REGISTRY.cached[self.state_dir] = cached
        if size > cached.offset:
            with self.journal_path.open("rb") as handle:
                handle.seek(cached.offset)
                chunk = handle.read(size - cached.offset)
            complete = chunk[: chunk.rfind(b"\n") + 1]
            new = [JournalEntry.model_validate_json(line) for line in complete.splitlines() if line.strip()]
            view = cached.view
            by_key = dict(view.by_key)
            for entry in new:
                by_key[(entry.account_id, entry.idempotency_key)] = entry
            cached.view = EstateView(_replay(view.estate, new), (*view.entries, *new), by_key)
            cached.offset += len(complete)
        return cached

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive writer section across threads and processes (blocking)."""
        with _REGISTRY.lock:
            writer = _REGISTRY.writers.setdefault(self.state_dir, threading.Lock())
        with writer:
            handle = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                os.close(handle)

    def append(self, entry: JournalEntry) -> EstateView:
        """Durably append ``entry`` (call inside :meth:`locked`); returns the view including it."""
        line = (entry.model_dump_json() + "\n").encode("utf-8")
        created = not self.journal_path.exists()
        if not created:
            self._drop_torn_tail()
        handle = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = 0
            while written < len(line):
                written += os.write(handle, line[written:])
            os.fsync(handle)
        finally:
            os.close(handle)
        if created:
            _fsync_dir(self.state_dir)
        return self.view()

    def _drop_torn_tail(self) -> None:
        """Cut a partial last line left by a writer that crashed mid-append (it was never acknowledged)."""
        with self.journal_path.open("r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            handle.seek(0)
            data = handle.read()
            handle.truncate(data.rfind(b"\n") + 1)
            os.fsync(handle.fileno())

    def journal(self) -> list[JournalEntry]:
        """Every complete entry on disk, in order (read fresh, not from the cache)."""
        if not self.journal_path.exists():
            return []
        lines = self.journal_path.read_bytes().splitlines(keepends=True)
        return [JournalEntry.model_validate_json(line) for line in lines if line.endswith(b"\n")]
