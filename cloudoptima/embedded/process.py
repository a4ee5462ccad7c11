"""Child processes that die with their parent, and their orderly stop."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


def _prepare_child() -> None:
    """In the child before exec: default SIGINT/SIGTERM handling, and a parent-death SIGTERM (Linux).

    A child inherits an ignored signal and the signal mask through exec, so one started while its supervisor
    ignored or blocked SIGINT (a test runner's worker, a shell's background job) would never stop on the
    signal ``stop_together`` sends it and be killed at the deadline instead: both are reset here. Then the
    kernel is asked to SIGTERM the child if its parent dies; a no-op where ``prctl`` is missing."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
    for number in (signal.SIGINT, signal.SIGTERM):
        libc.signal(int(number), None)  # SIG_DFL
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: Sequence[str],
    *,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session with output appended to ``log_file``.

    The child gets its own session so a terminal Ctrl-C reaches only the supervisor, which then stops
    the children in order; it also gets a parent-death signal so it never outlives a killed supervisor, and
    default SIGINT/SIGTERM handling whatever the supervisor ignores or blocks (:func:`_prepare_child`).
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        preexec: Callable[[], None] = _prepare_child
        return subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=preexec,
            user=user,
        )


def descendants(pid: int) -> list[int]:
    """Pids of every live descendant of ``pid`` (empty when it is gone)."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop(process: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Stop ``process`` and its whole process group: ``sig`` first, SIGKILL after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    family = [process.pid, *descendants(process.pid)]
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    _, alive = psutil.wait_procs([p for p in map(_proc, family) if p is not None], timeout=5)
    for straggler in alive:
        try:
            straggler.kill()
        except psutil.NoSuchProcess:
            continue


def stop_together(processes: Sequence[tuple[subprocess.Popen[bytes], int]], *, timeout: float = 15.0) -> None:
    """Stop several ``(process, signal)`` at once, each with its whole process group, as :func:`stop` does
    one: every signal is sent first, then each is waited for until one shared deadline (``timeout`` seconds),
    after which the ones still running get SIGKILL. Returns when all of them and their descendants are gone."""
    sent: list[tuple[subprocess.Popen[bytes], list[int]]] = []
    for process, sig in processes:
        if process.poll() is not None:
            continue
        family = [process.pid, *descendants(process.pid)]
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            continue
        sent.append((process, family))
    deadline = time.monotonic() + timeout
    for process, _family in sent:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    pids = [pid for _process, family in sent for pid in family]
    _, alive = psutil.wait_procs([p for p in map(_proc, pids) if p is not None], timeout=5)
    for straggler in alive:
        try:
            straggler.kill()
        except psutil.NoSuchProcess:
            continue


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
