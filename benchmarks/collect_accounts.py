"""Collect N sandbox accounts end to end through Temporal with 1 and with 2 worker processes.

Everything is real: an embedded Postgres, an embedded Redis, a Temporal dev server, and
``python -m cloudoptima_workflows.worker --queues collection`` processes. Each run collects a fresh organisation
holding one cloud account per sandbox account (first sync: ``--initial-days`` of costs in 7-day windows,
inventory, 7 days of utilisation, IAM) with one ``CollectAll`` workflow; the wall time runs from the start of
``CollectAll`` to its result, worker start-up excluded (the workers are polling before the clock starts, but
each still loads the estate on its first activity, inside the timing). Targets: 1,000 accounts in ≤ 5 min
with one worker, ≥ 1.7× faster with two.

    .venv/bin/python -m benchmarks.collect_accounts [--accounts 1000] [--concurrency 64] [--threads N]

Each run also reports the CPU-seconds its workers, the Temporal dev server, Postgres and Redis used: on a
machine whose cores also run the servers, the speed-up is bounded by about 2W / (W + S) (W the workers', S
the servers' CPU-seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, insert, select, text
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from benchmarks._support import embedded_database, report
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.embedded import redis as embedded_redis
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.embedded.temporal import executable
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.models import CloudAccount, CostRow, IamPrincipal, Organization, ResourceDocument
from cloudoptima_workflows.collection.inputs import CollectAllInput, CollectAllResult
from cloudoptima_workflows.connection import DATA_CONVERTER
from cloudoptima_workflows.queues import COLLECTION

ROOT = Path(__file__).resolve().parents[1]
END = date(2026, 11, 1)
VARYING = {"seconds", "cpu_seconds"}


def create_organisation(engine: Engine, store: SandboxEstateStore, key: str) -> uuid.UUID:
    cipher = CredentialCipher(key)
    org = uuid.uuid4()
    secret = cipher.encrypt({"kind": "sandbox"})
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(
                id=org, name=f"bench-{org.hex[:6]}", subscription_tier="free", settings={}
            )
        )
        connection.execute(
            insert(CloudAccount),
            [
                {
                    "id": uuid.uuid4(),
                    "organization_id": org,
                    "provider": str(account.provider),
                    "account_identifier": account.account_id,
                    "account_name": account.name,
                    "credentials_encrypted": secret,
                    "settings": {
                        "sandbox": {"state_dir": str(store.state_dir), "account_id": account.account_id}
                    },
                    "status": "active",
                    "verification_status": "verified",
                }
                for account in store.estate().accounts
            ],
        )
    return org


def tally(engine: Engine, org: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:

        def count(model: Any) -> int:
            return int(
                connection.scalar(select(func.count()).select_from(model).where(model.organization_id == org))
                or 0
            )

        return {
            "cost_rows": count(CostRow),
            "resources": count(ResourceDocument),
            "principals": count(IamPrincipal),
            "synced_accounts": int(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM cloud_accounts WHERE organization_id = :org AND last_sync_at IS NOT NULL"
                    ),
                    {"org": org},
                )
                or 0
            ),
            "billed": str(
                connection.scalar(
                    select(func.coalesce(func.sum(CostRow.billed_cost), 0)).where(
                        CostRow.organization_id == org
                    )
                )
            ),
        }


def settle(engine: Engine) -> None:
    """Finish the database's background work before a timed run (the previous run's rows are vacuumed and
    analysed, dirty pages written), so both runs start alike."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM (ANALYZE)"))
        connection.execute(text("CHECKPOINT"))


def maintenance(engine: Engine) -> dict[str, int]:
    """Autovacuum and autoanalyze runs so far, over every table (Postgres background work a run causes)."""
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT coalesce(sum(autovacuum_count), 0), coalesce(sum(autoanalyze_count), 0) "
                "FROM pg_stat_user_tables"
            )
        ).one()
    return {"autovacuum": int(row[0]), "autoanalyze": int(row[1])}


def _own_cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def server_cpu() -> dict[str, float]:
    """CPU-seconds used so far by this machine's Temporal dev server, Postgres and Redis processes.

    Postgres backends come and go: the postmaster's reaped-children times count the ended ones and the live
    children are added. Other Postgres or Temporal servers on the machine are counted too (run on a quiet
    machine).
    """
    totals = {"temporal": 0.0, "postgres": 0.0, "redis": 0.0}
    for process in psutil.process_iter(["name"]):
        name = process.info["name"] or ""
        try:
            if name == "temporal":
                totals["temporal"] += _own_cpu(process)
            elif name.startswith("redis-server"):
                totals["redis"] += _own_cpu(process)
            elif (
                name == "postgres"
                and (parent := process.parent()) is not None
                and parent.name() != "postgres"
            ):
                totals["postgres"] += _own_cpu(process) + sum(
                    child.cpu_times().user + child.cpu_times().system for child in process.children()
                )
        except psutil.Error:
            continue
    return totals


def start_workers(
    count: int, env: dict[str, str], logs: Path, threads: int | None
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    started = []
    extra = ["--threads", str(threads)] if threads else []
    for index in range(count):
        log = logs / f"worker-{count}-{index}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "cloudoptima_workflows.worker", "--queues", COLLECTION, *extra],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        started.append((process, log))
    deadline = time.monotonic() + 120
    for process, log in started:
        while "worker polling" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
    return started


def stop_workers(workers: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for process, _ in workers:
        process.send_signal(signal.SIGTERM)
    for process, _ in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def collect(client: Client, org: uuid.UUID, args: argparse.Namespace) -> tuple[float, CollectAllResult]:
    started = time.perf_counter()
    result: CollectAllResult = await client.execute_workflow(
        "CollectAll",
        CollectAllInput(
            kind="sandbox",
            organization_id=str(org),
            max_concurrency=args.concurrency,
            analyse=False,
            initial_days=args.initial_days,
            today=(END + timedelta(days=4)).isoformat(),
        ),
        id=f"bench-collect-{org}",
        task_queue=COLLECTION,
        result_type=CollectAllResult,
    )
    return time.perf_counter() - started, result


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="cloudoptima-bench-collect-"))
    key = Fernet.generate_key().decode()
    redis_port = free_port()
    redis_process = embedded_redis.start(work / "redis", redis_port, work / "redis.log")
    redis_url = embedded_redis.url_for(redis_port)
    temporal = await WorkflowEnvironment.start_local(
        dev_server_existing_path=executable("temporal"),
        ui=False,
        dev_server_extra_args=[],
        dev_server_log_level="error",
        data_converter=DATA_CONVERTER,
    )
    try:
        with embedded_database("bench_collect") as url:
            engine = make_engine(url)
            started = time.perf_counter()
            store = SandboxEstateStore.create(
                work / "estate", seed=1, accounts=args.accounts, days=args.days, end=END
            )
            generated = time.perf_counter() - started
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "REDIS_URL": redis_url,
                "TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
                "CLOUDOPTIMA_ENCRYPTION_KEY": key,
                "CLOUDOPTIMA_STATE_DIR": str(work / "state"),
                "CLOUDOPTIMA_SCHEDULES": "false",
                "PYTHONPATH": str(ROOT),
            }
            runs: dict[int, dict[str, Any]] = {}
            for workers in (1, 2):
                org = create_organisation(engine, store, key)
                settle(engine)
                processes = start_workers(workers, env, work, args.threads)
                watched = [psutil.Process(process.pid) for process, _ in processes]
                before_maintenance = maintenance(engine)
                before_servers = server_cpu()
                before_workers = [_own_cpu(process) for process in watched]
                try:
                    seconds, result = await collect(temporal.client, org, args)
                    after_workers = [_own_cpu(process) for process in watched]
                    after_servers = server_cpu()
                finally:
                    stop_workers(processes)
                cpu: dict[str, Any] = {
                    name: round(after_servers[name] - before_servers[name], 1) for name in after_servers
                }
                cpu["workers"] = round(sum(after_workers) - sum(before_workers), 1)
                after_maintenance = maintenance(engine)
                cpu["postgres_maintenance"] = {
                    name: after_maintenance[name] - before_maintenance[name] for name in after_maintenance
                }
                cpu["per_worker"] = [
                    round(a - b, 1) for a, b in zip(after_workers, before_workers, strict=True)
                ]
                runs[workers] = {
                    "seconds": round(seconds, 2),
                    "succeeded": len(result.succeeded),
                    "failed": len(result.failed),
                    "cpu_seconds": cpu,
                    **tally(engine, org),
                }
                print(f"{workers} worker(s): {runs[workers]}", flush=True)
            engine.dispose()
    finally:
        await temporal.shutdown()
        stop(redis_process)
        shutil.rmtree(work, ignore_errors=True)
    one, two = runs[1], runs[2]
    speedup = one["seconds"] / two["seconds"]
    data = {
        "accounts": args.accounts,
        "days_generated": args.days,
        "initial_days": args.initial_days,
        "concurrency": args.concurrency,
        "threads_per_worker": args.threads or "default (16)",
        "cpus": os.cpu_count(),
        "estate_generation_seconds": round(generated, 1),
        "runs": {str(k): v for k, v in runs.items()},
        "speedup": round(speedup, 2),
        "targets": {"one_worker_seconds_max": 300, "speedup_min": 1.7},
        "met": {"time": one["seconds"] <= 300, "speedup": speedup >= 1.7},
    }
    rows = [
        ("accounts", f"{args.accounts:,}"),
        ("CPUs on this machine", str(os.cpu_count())),
        ("activity threads per worker", str(args.threads or "default (16)")),
        ("1 worker: wall time", f"{one['seconds']:.1f} s ({args.accounts / one['seconds']:.1f} accounts/s)"),
        ("2 workers: wall time", f"{two['seconds']:.1f} s ({args.accounts / two['seconds']:.1f} accounts/s)"),
        ("speed-up (target ≥ 1.7×)", f"{speedup:.2f}×"),
        *(
            (
                f"{n} worker(s): CPU-s workers / temporal / postgres / redis",
                " / ".join(
                    str(runs[n]["cpu_seconds"][k]) for k in ("workers", "temporal", "postgres", "redis")
                ),
            )
            for n in (1, 2)
        ),
        ("1 worker ≤ 5 min", "yes" if data["met"]["time"] else "NO"),
        (
            "cost rows / resources / principals per run",
            f"{one['cost_rows']:,} / {one['resources']:,} / {one['principals']:,}",
        ),
        (
            "runs identical",
            "yes"
            if {k: v for k, v in one.items() if k not in VARYING}
            == {k: v for k, v in two.items() if k not in VARYING}
            else "NO",
        ),
    ]
    report("collect_accounts", rows, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14, help="days of generated estate history")
    parser.add_argument("--initial-days", type=int, default=14, help="days of costs a first sync fetches")
    parser.add_argument("--concurrency", type=int, default=64, help="CollectAll max_concurrency")
    parser.add_argument(
        "--threads", type=int, default=None, help="worker --threads (default: the setting, 16)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
