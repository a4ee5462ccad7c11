"""Gateway load benchmark: requests/s and latency of the cached cost overview and of a mixed read workload,
against a bare FastAPI endpoint measured in the same run, then 200 concurrent clients for 60 s.

Starts an embedded Postgres and Redis, seeds one enterprise organisation (90 days of rollups, 200 users),
runs the gateway (``cloudoptima gateway --workers N``, the product's own start) and the bare app (uvicorn,
the same N workers) in subprocesses on free ports, and drives them with httpx async clients (one connection per
client). Each workload records p50/p95/p99, errors, req/s, the load average beside it and the CPU seconds the
gateway processes, Postgres and this client spent. Prints a table, writes ``results/gateway_load.json``.

    .venv/bin/python -m benchmarks.gateway_load [--workers 2] [--seconds 10] [--concurrency 32] [--soak-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NotRequired, TypedDict

import httpx
import psutil
import psycopg
from sqlalchemy.orm import Session

from benchmarks._support import RESULTS
from cloudoptima.embedded import postgres, redis
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.security.passwords import hash_password
from cloudoptima.services.tokens import TokenIssuer
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.migrate import upgrade
from cloudoptima.storage.models import CostDaily, Organization, User
from cloudoptima_gateway.change_feed import libpq_url

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-secret-" + "x" * 40
SERVICES = ["EC2", "S3", "RDS", "Lambda", "CloudFront", "EBS", "DynamoDB", "ELB"]


def seed(url: str, users: int) -> list[str]:
    engine = make_engine(url)
    issuer = TokenIssuer(SECRET, access_minutes=120)
    password = hash_password("benchmark-password")
    today = datetime.now(UTC).date()
    with Session(engine) as session:
        org = Organization(name="bench", subscription_tier="enterprise", settings={})
        session.add(org)
        session.flush()
        for n in range(90):
            day = today - timedelta(days=n + 1)
            for i, service in enumerate(SERVICES):
                for region in ("us-east-1", "eu-west-1"):
                    amount = Decimal(100 + i * 7 + n % 7) / Decimal(3)
                    session.add(
                        CostDaily(
                            organization_id=org.id,
                            usage_date=day,
                            provider="aws",
                            billing_account_id="1",
                            sub_account_id="1",
                            service_name=service,
                            region_id=region,
                            charge_category="Usage",
                            billing_currency="USD",
                            tag_values={},
                            billed_cost=amount,
                            effective_cost=amount,
                            list_cost=amount,
                            row_count=1,
                        )
                    )
        tokens = []
        for n in range(users):
            user = User(
                organization_id=org.id,
                email=f"bench{n}-{uuid.uuid4().hex[:6]}@example.com",
                password_hash=password,
                role="viewer",
                is_active=True,
            )
            session.add(user)
            session.flush()
            tokens.append(issuer.issue(user.id, org.id, "viewer")[0])
        session.commit()
    engine.dispose()
    return tokens


def soak_paths(today: date) -> list[str]:
    """The soak's mix: the cached overview, by-service, the five database lists, a 90-day overview by region."""
    return [
        f"/v1/costs/overview?start_date={today - timedelta(days=30)}&end_date={today}",
        "/v1/costs/by-service",
        "/v1/budgets",
        "/v1/recommendations",
        "/v1/resources/compute?page_size=20",
        "/v1/costs/anomalies",
        "/v1/cloud-accounts",
        f"/v1/costs/overview?group_by=region&start_date={today - timedelta(days=90)}&end_date={today}",
    ]


def start_server(command: list[str], port: int, env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    """Start ``command`` and wait until ``health`` answers 200 on ``port`` (importing the app takes a while)."""
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(1200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}{health}").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
        if process.poll() is not None:
            break
    raise RuntimeError(f"{' '.join(command)} did not start")


def gateway_command(port: int, workers: int) -> list[str]:
    """The gateway as production starts it (``cloudoptima gateway``), in ``workers`` processes."""
    return [
        sys.executable, "-m", "cloudoptima_cli.entry_points", "gateway",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip


def bare_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", "--workers", str(workers),
    ]  # fmt: skip


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds of ``processes`` and their children (those still alive)."""
    total = 0.0
    seen: set[int] = set()
    for root in processes:
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for process in family:
            if process.pid in seen:
                continue
            seen.add(process.pid)
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


class LoadResult(TypedDict):
    """One workload's figures: request count, throughput, latency percentiles, failures and statuses."""

    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    statuses: dict[int, int]
    p99_ms_by_path: dict[str, float]
    writes: NotRequired[int]


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[max(int(len(ordered) * q) - 1, 0)] * 1000 if ordered else float("nan")


class RawConnection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads ``Content-Length`` answers (every endpoint
    driven here sends one; anything else counts as an error). A fraction of httpx's CPU per request: on 2 cores
    the load generator must not take the CPU the server is measured on."""

    def __init__(self, host: str, port: int, headers: list[dict[str, str]]) -> None:
        self.host, self.port = host, port
        self.heads = [self._head(host, h) for h in headers]
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @staticmethod
    def _head(host: str, headers: dict[str, str]) -> bytes:
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()

    async def get(self, path: str, caller: int = 0) -> int:
        """The status of ``GET path`` sent with the headers of ``caller`` (an index into the headers given);
        connects first when needed; ``OSError``/``ValueError`` on failure."""
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(b"GET " + path.encode() + b" " + self.heads[caller % len(self.heads)])
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            await self.close()
            raise ValueError("connection closed") from exc
        length, close = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if length is None:
            await self.close()
            raise ValueError("no Content-Length")
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return int(head[9:12])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(
    base: str, paths: list[str], tokens: list[str], seconds: float, clients: int, *, client: str = "raw"
) -> LoadResult:
    """``clients`` closed-loop clients, each on its own keep-alive connection, GETting ``paths`` in turn for
    ``seconds``, each round of the paths as the next of the users of ``tokens`` (client ``n`` starts at user
    ``n``): every user's requests stay far below the enterprise burst limit (5,000 a minute) however fast the
    gateway answers, as they would from many people's dashboards; ``client`` is ``raw`` (:class:`RawConnection`) or ``httpx`` (an ``AsyncClient`` per user, what
    the earlier runs used)."""
    latencies: list[float] = []
    by_path: dict[str, list[float]] = {path: [] for path in paths}
    errors = 0
    statuses: dict[int, int] = {}
    deadline = 0.0
    host, _, port = base.removeprefix("http://").partition(":")

    def count(status: int) -> None:
        nonlocal errors
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200:
            errors += 1

    callers = [{"Authorization": f"Bearer {token}"} for token in tokens] or [{}]

    async def raw_user(n: int) -> None:
        nonlocal errors
        connection = RawConnection(host, int(port), callers)
        i = n
        try:
            while time.perf_counter() < deadline:
                path = paths[i % len(paths)]
                caller = n + (i - n) // len(paths)  # every path once as one user, then the next user
                i += 1
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(30):
                        count(await connection.get(path, caller))
                except (OSError, ValueError, TimeoutError):
                    errors += 1
                    await connection.close()
                latencies.append(time.perf_counter() - started)
                by_path[path].append(latencies[-1])
        finally:
            await connection.close()

    async def httpx_user(n: int, pool: httpx.AsyncClient) -> None:
        nonlocal errors
        i = n
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            headers = callers[(n + (i - n) // len(paths)) % len(callers)]
            i += 1
            started = time.perf_counter()
            try:
                count((await pool.get(base + path, headers=headers)).status_code)
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - started)
            by_path[path].append(latencies[-1])

    # httpx: one client (one keep-alive connection) per simulated user (a single shared pool scans all its
    # connections on every request), sharing one TLS context (each building its own took ~0.1 s, 20 s of a
    # 60 s soak at 200 clients); the clock starts once all of them exist.
    tls = ssl.create_default_context()
    pools = [
        httpx.AsyncClient(
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1), timeout=30, verify=tls
        )
        for _ in range(clients if client == "httpx" else 0)
    ]
    try:
        started = time.perf_counter()
        deadline = started + seconds
        if client == "httpx":
            await asyncio.gather(*(httpx_user(n, pools[n]) for n in range(clients)))
        else:
            await asyncio.gather(*(raw_user(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    finally:
        for pool in pools:
            await pool.aclose()
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": _percentile(latencies, 0.50),
        "p95_ms": _percentile(latencies, 0.95),
        "p99_ms": _percentile(latencies, 0.99),
        "p99_ms_by_path": {p: round(_percentile(sorted(v), 0.99), 1) for p, v in by_path.items()},
        "errors": errors,
        "statuses": statuses,
    }


def with_writes(url: str, per_second: float, run: Callable[[], LoadResult]) -> LoadResult:
    """``run()`` while a thread commits ``per_second`` changes a second to the benchmark's organisation (an
    ``UPDATE`` of its row: the change feed tells every gateway process); the result records how many."""
    if per_second <= 0:
        return run()
    stop_writing = threading.Event()
    written = 0

    def write() -> None:
        nonlocal written
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            while not stop_writing.wait(1 / per_second):
                connection.execute("UPDATE organizations SET settings = settings WHERE name = 'bench'")
                written += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        result = run()
    finally:
        stop_writing.set()
        writer.join()
    return {**result, "writes": written}


def measured(
    run: Callable[[], LoadResult], servers: list[psutil.Process], postgres_process: psutil.Process
) -> dict[str, object]:
    """``run``'s figures with the load average before/after and the CPU seconds spent meanwhile."""

    def own() -> float:  # this process alone (its children are the servers)
        times = psutil.Process().cpu_times()
        return float(times.user + times.system)

    before = (cpu_seconds(servers), cpu_seconds([postgres_process]), own())
    load_before = Path("/proc/loadavg").read_text().split()[0]
    result = run()
    after = (cpu_seconds(servers), cpu_seconds([postgres_process]), own())
    return {
        **result,
        "loadavg_1m_before": float(load_before),
        "loadavg_1m_after": float(Path("/proc/loadavg").read_text().split()[0]),
        "cpu_s_server": round(after[0] - before[0], 2),
        "cpu_s_postgres": round(after[1] - before[1], 2),
        "cpu_s_client": round(after[2] - before[2], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2, help="processes of the gateway and of the bare app")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--soak-seconds", type=float, default=60)
    parser.add_argument("--soak-clients", type=int, default=200)
    parser.add_argument(
        "--client", choices=("raw", "httpx"), default="raw", help="the load generator's HTTP client"
    )
    parser.add_argument(
        "--soak-writes-per-second",
        type=float,
        default=0,
        help="during the soak, commit this many changes a second to the organisation (each makes every cached "
        "list of it stale: the lists' next requests run the routes again)",
    )
    parser.add_argument("--label", default="", help="a note stored with the figures (what this run is)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below on `timeout`/kill
    state = Path(tempfile.mkdtemp(prefix="cloudoptima-bench-"))
    pg_port, redis_port, gw_port, bare_port = free_port(), free_port(), free_port(), free_port()
    pg = postgres.start(postgres.PostgresLayout.in_state_dir(state / "pg"), pg_port)
    rd = redis.start(state / "redis", redis_port, state / "redis.log")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        postgres.ensure_database(pg_port, "bench")
        url = postgres.url_for(pg_port, "bench")
        upgrade(url)
        tokens = seed(url, args.soak_clients)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": redis.url_for(redis_port),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "JWT_SECRET": SECRET,
            "CLOUDOPTIMA_STATE_DIR": str(state / "gw"),
            "LOG_LEVEL": "WARNING",
            "TRUSTED_HOSTS": '["127.0.0.1","localhost"]',
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        processes.append(start_server(gateway_command(gw_port, args.workers), gw_port, env, "/health"))
        processes.append(start_server(bare_command(bare_port, args.workers), bare_port, env, "/bare"))
        gateway_process, bare_process = psutil.Process(processes[0].pid), psutil.Process(processes[1].pid)
        postgres_process = psutil.Process(pg.pid)
        gw, bare = f"http://127.0.0.1:{gw_port}", f"http://127.0.0.1:{bare_port}"
        mixed = soak_paths(datetime.now(UTC).date())
        overview = mixed[0]
        asyncio.run(drive(gw, mixed, tokens[:8], 3, 8))  # warm caches and pools (every worker, likely)

        def on(server: psutil.Process, run: Callable[[], LoadResult]) -> dict[str, object]:
            return measured(run, [server], postgres_process)

        results = {
            "bare": on(
                bare_process,
                lambda: asyncio.run(
                    drive(bare, ["/bare"], [], args.seconds, args.concurrency, client=args.client)
                ),
            ),
            "cached_overview": on(
                gateway_process,
                lambda: asyncio.run(
                    drive(gw, [overview], tokens, args.seconds, args.concurrency, client=args.client)
                ),
            ),
            "mixed_reads": on(
                gateway_process,
                lambda: asyncio.run(
                    drive(gw, mixed, tokens, args.seconds, args.concurrency, client=args.client)
                ),
            ),
            "soak_200_clients": on(
                gateway_process,
                lambda: with_writes(
                    url,
                    args.soak_writes_per_second,
                    lambda: asyncio.run(
                        drive(gw, mixed, tokens, args.soak_seconds, args.soak_clients, client=args.client)
                    ),
                ),
            ),
        }
        ratio = float(results["cached_overview"]["rps"]) / float(results["bare"]["rps"])  # type: ignore[arg-type]
        columns = [
            *("requests", "rps", "p50_ms", "p95_ms", "p99_ms", "errors", "loadavg_1m_before"),
            *("cpu_s_server", "cpu_s_postgres", "cpu_s_client"),
        ]
        print(f"{'workload':<18}" + "".join(f"{c.replace('loadavg_1m_before', 'load'):>15}" for c in columns))
        for name, r in results.items():
            print(f"{name:<18}" + "".join(f"{float(r[c]):>15.1f}" for c in columns))  # type: ignore[arg-type]
        print(f"cached overview / bare FastAPI = {ratio:.2f}x (target >= 0.5x); workers = {args.workers}")
        data = {
            "label": args.label,
            "workers": args.workers,
            "client": args.client,
            "cpus": os.cpu_count(),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "results": results,
            "cached_vs_bare": round(ratio, 3),
        }
        RESULTS.mkdir(exist_ok=True)
        name = f"gateway_load{'-' + args.label if args.label else ''}.json"
        (RESULTS / name).write_text(json.dumps(data, indent=2, default=str))
        print(json.dumps(data, default=str))
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        stop(rd)
        stop(pg, sig=signal.SIGINT)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
