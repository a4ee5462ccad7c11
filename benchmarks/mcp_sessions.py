"""Throughput and latency of N concurrent MCP sessions calling a cached cost tool over streamable HTTP.

Starts an embedded Postgres, loads a sandbox estate into a fresh organisation with an API key (as
``mcp_latency`` does), starts the real platform server (``python -m cloudoptima_mcp.platform --transport
http`` plus ``--server-arg`` options, e.g. ``--workers 2``) and drives it with the official ``mcp`` client:

- one session alone: ``--single-calls`` calls of ``cost_by_dimension`` (cache hits), p50/p95;
- ``--sessions`` sessions (50) spread over ``--client-processes`` client processes (the Python client costs
  CPU too; on 2 cores one client process is the bottleneck before the server is), each calling the same tool
  for ``--duration`` seconds after a common start: calls/s, average, p50/p95/p99, errors (an exception or
  an ``isError`` result; a call must answer ``cached: true``). ``--rate`` (300) is the offered load over all
  sessions: each session calls every ``sessions / rate`` seconds, out of phase with the others, as 50 users
  of one server would (a call due while the previous one is still out starts as soon as it returns, counted
  as late). ``--rate 0`` is the closed loop: each session calls again at once, so latency is the queue
  (average ≈ sessions / throughput: no server answers 50 back-to-back sessions within 50 ms below ~1,000
  calls/s) and calls/s is the most the server can do;
- CPU seconds over the timed window of the server (its process and its children: uvicorn workers), of
  Postgres (every call writes an audit row) and of the client processes themselves (``getrusage``), with the
  load average (``/proc/loadavg``) before and after: on a shared machine the numbers are only comparable
  with the load beside them.

Results go to ``results/mcp_sessions.json`` under ``--label`` (runs with other labels are kept), so a
before/after pair measured back to back sits in one file. Targets (issue 23): ≥ 300 calls/s, p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import psutil
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from benchmarks._support import RESULTS, embedded_database, p50, percentile, report
from benchmarks.mcp_latency import _seed
from cloudoptima.embedded.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
TOOL = "cost_by_dimension"
ARGUMENTS = {"group_by": "service", "limit": 20}


def _start(url: str, port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": "bench-secret-0123456789abcdef0123456789"}
    env["CLOUDOPTIMA_STATE_DIR"] = tempfile.mkdtemp(prefix="cloudoptima-bench-state-")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "cloudoptima_mcp.platform"),
            *("--transport", "http", "--port", str(port), *extra),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"MCP server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("MCP server did not start")


def _cpu(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds of the processes, their live children and the children they reaped
    (Postgres backends come and go)."""
    total = 0.0
    seen: set[int] = set()
    for root in processes:
        try:
            family = [root, *root.children(recursive=True)]
            reaped = root.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += reaped.children_user + reaped.children_system
        for member in family:
            if member.pid in seen:
                continue
            seen.add(member.pid)
            try:
                times = member.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def _postmaster(database_url: str) -> psutil.Process:
    port = str(urlsplit(database_url.replace("postgresql+psycopg", "postgresql")).port)
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        at = cmdline.index("-p") if "-p" in cmdline else -1
        if at >= 0 and cmdline[at + 1 : at + 2] == [port] and "postgres" in (process.info["name"] or ""):
            return process
    raise RuntimeError(f"no Postgres process listens on port {port}")


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cached(result: Any) -> bool:
    data = (result.structured_content or {}).get("data") or {}
    return not result.is_error and data.get("cached") is True


async def _session_loop(
    endpoint: str,
    key: str,
    ready: asyncio.Event,
    go: asyncio.Event,
    deadline: list[float],
    out: dict[str, Any],
    interval: float,
) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        streamable_http_client(endpoint, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.call_tool(TOOL, ARGUMENTS)  # fills the cache, opens the connection
        out["ready"] += 1
        if out["ready"] == out["sessions"]:
            ready.set()
        await go.wait()
        due = time.perf_counter() + random.uniform(0, interval)  # sessions out of phase
        while time.perf_counter() < deadline[0]:
            if interval:
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    out["late"] += 1  # the previous answer came after this call was due
                due += interval
            started = time.perf_counter()
            try:
                result = await session.call_tool(TOOL, ARGUMENTS)
                ok = _cached(result)
            except Exception as exc:  # every failure is counted as an error
                ok = False
                out["first_error"] = out.get("first_error") or repr(exc)[:300]
            out["latencies"].append((time.perf_counter() - started) * 1000)
            if not ok:
                out["errors"] += 1


async def _client(
    endpoint: str, key: str, sessions: int, duration: float, interval: float, barrier: Barrier
) -> dict[str, Any]:
    ready, go = asyncio.Event(), asyncio.Event()
    deadline = [0.0]
    out: dict[str, Any] = {"latencies": [], "errors": 0, "late": 0, "ready": 0, "sessions": sessions}
    tasks = [
        asyncio.create_task(_session_loop(endpoint, key, ready, go, deadline, out, interval))
        for _ in range(sessions)
    ]
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():  # a session failed before it was ready
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    await asyncio.to_thread(barrier.wait)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    deadline[0] = started + duration
    go.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return {
        "latencies": out["latencies"],
        "errors": out["errors"],
        "late": out["late"],
        "first_error": out.get("first_error"),
        "elapsed_s": elapsed,
        "cpu_s": cpu,
    }


def _client_process(
    endpoint: str, key: str, sessions: int, duration: float, interval: float, barrier: Barrier, queue: Any
) -> None:
    try:
        queue.put(asyncio.run(_client(endpoint, key, sessions, duration, interval, barrier)))
    except BaseException as exc:
        barrier.abort()
        queue.put({"failed": repr(exc)[:500]})
        raise


async def _single(endpoint: str, key: str, calls: int) -> list[float]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        streamable_http_client(endpoint, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.call_tool(TOOL, ARGUMENTS)
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            result = await session.call_tool(TOOL, ARGUMENTS)
            samples.append((time.perf_counter() - started) * 1000)
            if not _cached(result):
                raise RuntimeError(f"a single-session call was not a cache hit: {result}")
        return samples


def _spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def measure(
    endpoint: str,
    key: str,
    server: psutil.Process,
    postgres: psutil.Process,
    *,
    sessions: int,
    processes: int,
    duration: float,
    single_calls: int,
    rate: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One-session latency, then the concurrent run (see module docstring)."""
    single = asyncio.run(_single(endpoint, key, single_calls))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    queue = context.Queue()
    workers = [
        context.Process(
            target=_client_process,
            args=(endpoint, key, n, duration, sessions / rate if rate else 0.0, barrier, queue),
        )
        for n in _spread(sessions, processes)
    ]
    for worker in workers:
        worker.start()
    load_before = _loadavg()
    barrier.wait(timeout=300)
    server_cpu, postgres_cpu = _cpu([server]), _cpu([postgres])
    spy = None
    if profile is not None:
        spy = subprocess.Popen(
            [
                os.environ.get("PY_SPY", "py-spy"),
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(duration)),
                "--format",
                "raw",
                "--output",
                str(profile),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    parts = [queue.get(timeout=duration + 300) for _ in workers]
    server_cpu, postgres_cpu = _cpu([server]) - server_cpu, _cpu([postgres]) - postgres_cpu
    load_after = _loadavg()
    for worker in workers:
        worker.join(timeout=30)
    if spy is not None:
        spy.wait(timeout=120)
    failed = [part["failed"] for part in parts if "failed" in part]
    if failed:
        raise RuntimeError(f"a client process failed: {failed[0]}")
    latencies = [ms for part in parts for ms in part["latencies"]]
    elapsed = max(part["elapsed_s"] for part in parts)
    client_cpu = sum(part["cpu_s"] for part in parts)
    return {
        "sessions": sessions,
        "client_processes": processes,
        "duration_s": duration,
        "elapsed_s": round(elapsed, 2),
        "calls": len(latencies),
        "errors": sum(part["errors"] for part in parts),
        "first_error": next((part["first_error"] for part in parts if part["first_error"]), None),
        "offered_calls_per_s": rate or None,
        "late_calls": sum(part["late"] for part in parts),
        "calls_per_s": round(len(latencies) / elapsed, 1),
        "avg_ms": round(statistics.fmean(latencies), 2),
        "p50_ms": round(p50(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "single_session_p50_ms": round(p50(single), 2),
        "single_session_p95_ms": round(percentile(single, 95), 2),
        "server_cpu_s": round(server_cpu, 2),
        "postgres_cpu_s": round(postgres_cpu, 2),
        "client_cpu_s": round(client_cpu, 2),
        "server_cpu_ms_per_call": round(server_cpu * 1000 / max(len(latencies), 1), 3),
        "client_cpu_ms_per_call": round(client_cpu * 1000 / max(len(latencies), 1), 3),
        "postgres_cpu_ms_per_call": round(postgres_cpu * 1000 / max(len(latencies), 1), 3),
        "cores": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }


def _record(label: str, result: dict[str, Any]) -> dict[str, Any]:
    path = RESULTS / "mcp_sessions.json"
    runs: dict[str, Any] = {}
    if path.exists():
        runs = json.loads(path.read_text()).get("runs", {})
    runs[label] = result
    return {"target": {"calls_per_s": 300, "p95_ms": 50, "sessions": 50}, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds of the timed window.")
    parser.add_argument("--single-calls", type=int, default=300)
    parser.add_argument(
        "--rate",
        type=float,
        default=300.0,
        help="Offered calls/s over all sessions (each session calls every sessions/rate s, out of phase); "
        "0: every session calls again as soon as it has its answer (the most the server can do, closed loop).",
    )
    parser.add_argument("--accounts", type=int, default=6)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="An extra option for the server's command line (repeat it), e.g. --server-arg=--workers=2.",
    )
    parser.add_argument(
        "--profile-server",
        type=Path,
        default=None,
        metavar="FILE",
        help="Sample the server with py-spy (PY_SPY or py-spy on PATH) over the timed window: collapsed stacks.",
    )
    parser.add_argument("--label", default="current", help="Name of this run in results/mcp_sessions.json.")
    args = parser.parse_args()
    if not 1 <= args.client_processes <= args.sessions:
        parser.error("--client-processes must be between 1 and --sessions")
    with embedded_database("mcp_sessions") as url:
        key = _seed(url, args.accounts, args.days)
        port = free_port()
        process = _start(url, port, args.server_arg)
        try:
            result = measure(
                f"http://127.0.0.1:{port}/mcp",
                key,
                psutil.Process(process.pid),
                _postmaster(url),
                sessions=args.sessions,
                processes=args.client_processes,
                duration=args.duration,
                single_calls=args.single_calls,
                rate=args.rate,
                profile=args.profile_server,
            )
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    result["server_args"] = args.server_arg
    rows = [
        ("server options", " ".join(args.server_arg) or "(defaults)"),
        ("sessions / client processes", f"{result['sessions']} / {result['client_processes']}"),
        ("calls (errors)", f"{result['calls']:,} ({result['errors']})"),
        ("offered calls/s (0: closed loop)", f"{args.rate:g}"),
        ("calls/s (late starts)", f"{result['calls_per_s']} ({result['late_calls']}) (target ≥ 300)"),
        (
            "avg / p50 / p95 / p99 (ms)",
            f"{result['avg_ms']} / {result['p50_ms']} / {result['p95_ms']} / "
            f"{result['p99_ms']} (p95 target ≤ 50)",
        ),
        (
            "one session p50 / p95 (ms)",
            f"{result['single_session_p50_ms']} / {result['single_session_p95_ms']}",
        ),
        (
            "CPU-s server / Postgres / client",
            f"{result['server_cpu_s']} / {result['postgres_cpu_s']} / "
            f"{result['client_cpu_s']} over {result['elapsed_s']} s",
        ),
        (
            "CPU-ms per call server / Postgres / client",
            f"{result['server_cpu_ms_per_call']} / "
            f"{result['postgres_cpu_ms_per_call']} / {result['client_cpu_ms_per_call']}",
        ),
        ("load average before → after", f"{result['loadavg_before']} → {result['loadavg_after']}"),
    ]
    if result["first_error"]:
        rows.append(("first error", result["first_error"]))
    report("mcp_sessions", rows, _record(args.label, result))


if __name__ == "__main__":
    main()
