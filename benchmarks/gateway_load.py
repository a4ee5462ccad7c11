"""Gateway load benchmark: requests/s and p99 of the cached cost overview and of a mixed read workload,
against a bare FastAPI endpoint measured in the same run, then 200 concurrent clients for 60 s.

Starts an embedded Postgres and Redis, seeds one enterprise organisation (90 days of rollups, 200 users),
runs the gateway and the bare app with uvicorn in subprocesses on free ports, and drives them with httpx
async clients (bounded concurrency). Prints a table and a JSON line.

    .venv/bin/python benchmarks/gateway_load.py [--seconds 10] [--concurrency 32] [--soak-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypedDict

import httpx
from sqlalchemy.orm import Session

from cloudoptima.embedded import postgres, redis
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.security.passwords import hash_password
from cloudoptima.services.tokens import TokenIssuer
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.migrate import upgrade
from cloudoptima.storage.models import CostDaily, Organization, User

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


def start_uvicorn(target: str, port: int, env: dict[str, str], *, factory: bool) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(300):
        try:
            if (
                httpx.get(
                    f"http://127.0.0.1:{port}/health" if factory else f"http://127.0.0.1:{port}/bare"
                ).status_code
                == 200
            ):
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{target} did not start")


class LoadResult(TypedDict):
    """One workload's figures: request count, throughput, p99 latency, failures and status histogram."""

    requests: int
    rps: float
    p99_ms: float
    errors: int
    statuses: dict[int, int]


async def drive(base: str, paths: list[str], tokens: list[str], seconds: float, clients: int) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def worker(n: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"} if tokens else {}
        i = n
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            try:
                response = await client.get(base + path, headers=headers)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - started)

    # One client (one keep-alive connection) per simulated user: a single shared httpx pool scans all its
    # connections on every request, which at 200 connections made the load generator the bottleneck.
    pools = [
        httpx.AsyncClient(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1), timeout=30)
        for _ in range(clients)
    ]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(n, pools[n]) for n in range(clients)))
        elapsed = time.perf_counter() - started
    finally:
        for pool in pools:
            await pool.aclose()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p99_ms": p99 * 1000,
        "errors": errors,
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--soak-seconds", type=float, default=60)
    parser.add_argument("--soak-clients", type=int, default=200)
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
        processes.append(start_uvicorn("cloudoptima_gateway.main:app_factory", gw_port, env, factory=True))
        processes.append(start_uvicorn("benchmarks.bare_app:app", bare_port, env, factory=False))
        gw, bare = f"http://127.0.0.1:{gw_port}", f"http://127.0.0.1:{bare_port}"
        today = datetime.now(UTC).date()
        overview = f"/v1/costs/overview?start_date={today - timedelta(days=30)}&end_date={today}"
        mixed = [
            overview,
            "/v1/costs/by-service",
            "/v1/budgets",
            "/v1/recommendations",
            "/v1/resources/compute?page_size=20",
            "/v1/costs/anomalies",
            "/v1/cloud-accounts",
            f"/v1/costs/overview?group_by=region&start_date={today - timedelta(days=90)}&end_date={today}",
        ]
        asyncio.run(drive(gw, mixed, tokens[:4], 2, 4))  # warm caches and pools
        results = {
            "bare": asyncio.run(drive(bare, ["/bare"], [], args.seconds, args.concurrency)),
            "cached_overview": asyncio.run(drive(gw, [overview], tokens, args.seconds, args.concurrency)),
            "mixed_reads": asyncio.run(drive(gw, mixed, tokens, args.seconds, args.concurrency)),
        }
        results["soak_200_clients"] = asyncio.run(
            drive(gw, mixed, tokens, args.soak_seconds, args.soak_clients)
        )
        ratio = results["cached_overview"]["rps"] / results["bare"]["rps"]
        print(f"{'workload':<20}{'requests':>10}{'req/s':>10}{'p99 ms':>10}{'errors':>8}")
        for name, r in results.items():
            print(f"{name:<20}{r['requests']:>10.0f}{r['rps']:>10.0f}{r['p99_ms']:>10.1f}{r['errors']:>8.0f}")
        print(f"cached overview / bare FastAPI = {ratio:.2f}x (target >= 0.5x)")
        print(json.dumps({"results": results, "cached_vs_bare": round(ratio, 3)}, default=str))
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        stop(rd)
        stop(pg, sig=signal.SIGINT)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
