"""The worker's composition root: ``python -m temporal_workflows.worker [--queues a,b]``.

One process polls every requested task queue; more processes on other machines scale out against the
same Temporal cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from cloudoptima.settings import Settings, load_settings
from cloudoptima.storage.engine import engine_from_settings, session_factory
from temporal_workflows.maintenance.activities import MaintenanceActivities
from temporal_workflows.maintenance.workflows import CleanupWorkflow
from temporal_workflows.queues import ALL_QUEUES, PROCESSING

log = logging.getLogger("cloudoptima.worker")


def build_workers(
    client: Client, settings: Settings, queues: Sequence[str], executor: ThreadPoolExecutor
) -> list[Worker]:
    """One Temporal ``Worker`` per task queue with the workflows and activities that belong to it."""
    sessions = session_factory(engine_from_settings(settings))
    maintenance = MaintenanceActivities(sessions)
    registry: dict[str, tuple[list[type], list[object]]] = {
        PROCESSING: ([CleanupWorkflow], [maintenance.purge_expired_tokens]),
    }
    workers = []
    for queue in queues:
        workflows, activities = registry.get(queue, ([], []))
        if not workflows and not activities:
            log.info("no workflows on queue %s yet; not polling it", queue)
            continue
        workers.append(
            Worker(
                client,
                task_queue=queue,
                workflows=workflows,
                activities=activities,  # type: ignore[arg-type]
                activity_executor=executor,
            )
        )
    return workers


async def run(settings: Settings, queues: Sequence[str]) -> None:
    client = await Client.connect(settings.resolved_temporal_address(), namespace=settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=16) as executor:
        workers = build_workers(client, settings, queues, executor)
        log.info("worker polling %s", ", ".join(w.task_queue for w in workers))
        tasks = [asyncio.create_task(worker.run()) for worker in workers]
        await stop.wait()
        await asyncio.gather(*(worker.shutdown() for worker in workers))
        await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cloudoptima worker")
    parser.add_argument("--queues", default=",".join(ALL_QUEUES), help="comma-separated task queues")
    args = parser.parse_args(argv)
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = sorted(set(queues) - set(ALL_QUEUES))
    if unknown:
        parser.error(f"unknown queue(s): {', '.join(unknown)}; known: {', '.join(ALL_QUEUES)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run(load_settings(), queues))


if __name__ == "__main__":
    main()
