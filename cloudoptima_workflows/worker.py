"""The worker's composition root: ``python -m cloudoptima_workflows.worker [--queues a,b]``.

One process polls every requested task queue; more processes on other machines scale out against the
same Temporal cluster. Queues and what runs on them:

- ``collection``: CollectAll, CollectAccount and the ``collection.*`` activities;
- ``processing``: Cleanup, Retention, AnalyseOrganisation, AnalyseAll, EvaluateBudgets, RefreshPrices,
  DeliverNotifications, SendDigests and their activities;
- ``ml``: RefreshForecasts and ``analysis.forecast``;
- ``remediation``: the remediation and policy workflows (``cloudoptima_workflows.remediation.registration``);
- ``reports``: GenerateReport, ScheduledReport (one run of a report schedule) and the ``reports.*``
  activities (generate, deliver by email or to S3, record a scheduled run); ScheduledCostExport and
  ``exports.run_scheduled_export`` (one run of a cost export schedule), RunCostExport and
  ``exports.run_queued_export`` (one run queued through ``POST /v1/exports/run``).

At start the worker creates or updates the Temporal Schedules (``cloudoptima_workflows.schedules``) unless
``CLOUDOPTIMA_SCHEDULES=false``. Every worker records workflow writes in the audit log
(``cloudoptima_workflows.audit.AuditInterceptor``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from cloudoptima.clouds.price_lists import PriceListOptions
from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.notifications.email import SmtpSender
from cloudoptima.observability.log_context import configure_json_logging
from cloudoptima.observability.tracing import WORKER, configure_tracing, shutdown_tracing
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import CollectionService
from cloudoptima.services.cost_export_schedules import ExportsConfig, exports_config_from_settings
from cloudoptima.services.events import EventPublisher, Publish
from cloudoptima.services.notification_delivery import smtp_sender_from_settings
from cloudoptima.services.prices import PriceRefresher, ReaderFactory, default_readers, first_live_account
from cloudoptima.services.reports import ReportsConfig, reports_config_from_settings
from cloudoptima.settings import Settings, SettingsError, load_settings
from cloudoptima.storage.engine import engine_from_settings, session_factory
from cloudoptima.storage.models import CloudAccount
from cloudoptima_workflows.allocation.activities import AllocationActivities
from cloudoptima_workflows.allocation.workflows import ReallocateCostsWorkflow
from cloudoptima_workflows.analysis.activities import AnalysisActivities, Explain, Narrate
from cloudoptima_workflows.analysis.workflows import (
    AnalyseAllWorkflow,
    AnalyseOrganisationWorkflow,
    EvaluateBudgetsWorkflow,
    RefreshForecastsWorkflow,
)
from cloudoptima_workflows.audit import AuditInterceptor
from cloudoptima_workflows.collection.activities import CollectionActivities
from cloudoptima_workflows.collection.workflows import CollectAccountWorkflow, CollectAllWorkflow
from cloudoptima_workflows.connection import connect
from cloudoptima_workflows.exports.activities import ExportActivities
from cloudoptima_workflows.exports.workflows import RunCostExportWorkflow, ScheduledCostExportWorkflow
from cloudoptima_workflows.health import HEALTH_PATH, WorkerHealth
from cloudoptima_workflows.maintenance.activities import MaintenanceActivities
from cloudoptima_workflows.maintenance.workflows import CleanupWorkflow, RetentionWorkflow
from cloudoptima_workflows.notifications.activities import NotificationActivities
from cloudoptima_workflows.notifications.workflows import DeliverNotificationsWorkflow, SendDigestsWorkflow
from cloudoptima_workflows.prices.activities import PriceActivities
from cloudoptima_workflows.prices.workflows import RefreshPricesWorkflow
from cloudoptima_workflows.queues import ALL_QUEUES, COLLECTION, ML, PROCESSING, REMEDIATION, REPORTS
from cloudoptima_workflows.remediation import registration as remediation
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.reports.activities import ReportActivities
from cloudoptima_workflows.reports.scheduled_activities import ScheduledReportActivities
from cloudoptima_workflows.reports.workflows import GenerateReportWorkflow, ScheduledReportWorkflow
from cloudoptima_workflows.schedules import ensure_schedules
from cloudoptima_workflows.telemetry import DEFAULT_TEMPORAL_METRICS_PORT, runtime_with_metrics
from cloudoptima_workflows.tickets.activities import TicketActivities
from cloudoptima_workflows.tickets.workflows import SyncTicketsWorkflow

log = logging.getLogger("cloudoptima.worker")
ACTIVITY_THREADS = 16


@dataclass(frozen=True)
class WorkerDeps:
    """Everything the activities need, built once per process (tests build their own)."""

    engine: Engine
    sessions: sessionmaker[Session]
    providers: ProviderRegistry
    publish: Publish | None
    explain: Explain | None = None
    """The root-cause agent (``explainer_from_settings``); None keeps the deterministic contribution text."""
    narrate: Narrate | None = None
    """The recommendation narrator (``narrator_from_settings``); None leaves narratives to be written on
    first request (``GET /v1/recommendations/{id}/narrative``)."""
    utilisation_window_days: int = 93
    """Days of utilisation history the summaries (what the rules read) cover (``Settings``)."""
    utilisation_retention_days: int = 93
    """Days of utilisation history kept (``Settings``)."""
    price_readers: Mapping[CloudProvider, ReaderFactory] = field(default_factory=dict)
    """The providers' price-list readers (``default_readers``); empty = every price refresh fails visibly."""
    approval_keys: tuple[str, ...] = ()
    """The encryption key ring, which Temporal-UI approval codes are checked with (``Settings``)."""
    smtp: SmtpSender | None = None
    """The SMTP server email notification channels send through; None: email deliveries fail permanently."""
    notifications_allow_insecure_localhost: bool = False
    """Notification channel URLs on localhost are accepted (``Settings``)."""
    public_url: str = "http://127.0.0.1:8000"
    """The address people reach the product at (``Settings.resolved_public_url``): the base of the links in
    digests and of the absolute links every notice carries to channels (analysis, remediation and approvals,
    collection; reports take theirs from ``reports``)."""
    console_url: str | None = None
    """The web console's base URL (``Settings.resolved_console_url``): notices of anomalies, recommendations,
    budgets, executions and approvals, collection failures and reports link to its pages
    (``cloudoptima.services.notice_links``); None: to the API under ``public_url``."""
    reports: ReportsConfig | None = None
    """The report store, link key and S3 destination (``reports_config_from_settings``); None: the reports
    queue is not served."""
    exports: ExportsConfig | None = None
    """Where folder cost exports go and the credential cipher (``exports_config_from_settings``); None:
    scheduled cost exports are not served (on the reports queue)."""
    retention_allow_short: bool = False
    """``RETENTION_ALLOW_SHORT``: audit retention below 365 days is applied as organisations set it."""


def explainer_from_settings(settings: Settings) -> Explain:
    """The root-cause explainer of the analysis step: the configured LLM (offline narrator without one),
    with semantic memory for similar past incidents. A failure on one anomaly keeps its deterministic text."""
    from cloudoptima.services.embeddings import embedder_from_settings
    from cloudoptima.services.semantic_memory import SemanticMemory
    from cloudoptima_agents.models import chat_model, select_provider
    from cloudoptima_agents.root_cause import explain_and_store

    model = None if select_provider(settings).provider == "offline" else chat_model(settings)
    embedder = embedder_from_settings(settings)

    def explain(session: Session, organization_id: uuid.UUID, anomaly_ids: list[uuid.UUID]) -> int:
        memory = SemanticMemory(session, organization_id, embedder)
        done = 0
        for anomaly_id in anomaly_ids:
            try:
                with session.begin_nested():
                    explain_and_store(session, organization_id, anomaly_id, model=model, memory=memory)
                done += 1
            except Exception:
                log.exception("root-cause explanation failed for anomaly %s", anomaly_id)
        return done

    return explain


def narrator_from_settings(settings: Settings) -> Narrate:
    """The analysis step's narrator: the configured LLM (offline narrator without one). Narratives whose
    evidence and model are unchanged are not rewritten; a failure on one recommendation is logged and skipped."""
    from cloudoptima_agents.models import chat_model, select_provider
    from cloudoptima_agents.narrator import narrate_recommendation

    model = None if select_provider(settings).provider == "offline" else chat_model(settings)

    def narrate(session: Session, organization_id: uuid.UUID, recommendation_ids: list[uuid.UUID]) -> int:
        done = 0
        for recommendation_id in recommendation_ids:
            try:
                with session.begin_nested():
                    narrate_recommendation(session, organization_id, recommendation_id, model=model)
                done += 1
            except Exception:
                log.exception("narrative failed for recommendation %s", recommendation_id)
        return done

    return narrate


def build_deps(settings: Settings) -> WorkerDeps:
    """Real dependencies from settings: database, credential cipher + provider registry, Redis events."""
    engine = engine_from_settings(settings)
    publish: Publish | None
    try:
        publish = EventPublisher.from_url(settings.resolved_redis_url())
    except SettingsError as exc:
        log.warning("events are not published: %s", exc)
        publish = None
    sessions = session_factory(engine)
    providers = ProviderRegistry(CredentialCipher(settings.resolved_encryption_keys))
    return WorkerDeps(
        engine=engine,
        sessions=sessions,
        providers=providers,
        publish=publish,
        explain=explainer_from_settings(settings),
        narrate=narrator_from_settings(settings),
        utilisation_window_days=settings.utilisation_window_days,
        utilisation_retention_days=settings.utilisation_retention_days,
        approval_keys=tuple(settings.resolved_encryption_keys),
        smtp=smtp_sender_from_settings(settings),
        notifications_allow_insecure_localhost=settings.notifications_allow_insecure_localhost,
        public_url=settings.resolved_public_url,
        console_url=settings.resolved_console_url,
        reports=reports_config_from_settings(settings),
        exports=exports_config_from_settings(settings),
        retention_allow_short=settings.retention_allow_short,
        price_readers=default_readers(
            PriceListOptions(gcp_api_key=settings.gcp_billing_api_key),
            first_live_account(sessions, providers.for_account),
        ),
    )


def provider_by_account_id(deps: WorkerDeps) -> Callable[[uuid.UUID], CloudProviderClient]:
    """``cloud_account_id -> provider`` (what remediation needs); CredentialsError for an unknown id."""

    def build(cloud_account_id: uuid.UUID) -> CloudProviderClient:
        with deps.sessions() as session:
            row = session.get(CloudAccount, cloud_account_id)
            if row is None:
                raise CredentialsError(f"cloud account {cloud_account_id} does not exist")
            session.expunge(row)
        return deps.providers.for_account(row)

    return build


def registrations(deps: WorkerDeps) -> dict[str, tuple[list[type], list[Any]]]:
    """Workflows and activities per task queue."""
    collection = CollectionActivities(
        CollectionService(
            deps.engine,
            deps.providers.for_account,
            publish=deps.publish,
            utilisation_window_days=deps.utilisation_window_days,
            utilisation_retention_days=deps.utilisation_retention_days,
            public_url=deps.public_url,
            console_url=deps.console_url,
        )
    )
    analysis = AnalysisActivities(
        deps.sessions,
        deps.publish,
        explain=deps.explain,
        narrate=deps.narrate,
        public_url=deps.public_url,
        console_url=deps.console_url,
    )
    maintenance = MaintenanceActivities(
        deps.sessions,
        report_store=deps.reports.store if deps.reports is not None else None,
        exports=deps.exports,
        retention_allow_short=deps.retention_allow_short,
    )
    prices = PriceActivities(PriceRefresher(deps.sessions, deps.price_readers))
    allocation = AllocationActivities(deps.sessions)
    notifications = NotificationActivities(
        deps.sessions,
        deps.approval_keys,
        deps.smtp,
        allow_insecure_localhost=deps.notifications_allow_insecure_localhost,
        public_url=deps.public_url,
        publish=deps.publish,
    )
    tickets = TicketActivities(
        deps.sessions,
        deps.approval_keys,
        allow_insecure_localhost=deps.notifications_allow_insecure_localhost,
    )
    reports: tuple[list[type], list[Any]] = (
        (
            [GenerateReportWorkflow, ScheduledReportWorkflow],
            [
                *ReportActivities(deps.sessions, deps.reports, deps.smtp, publish=deps.publish).all(),
                *ScheduledReportActivities(deps.sessions, deps.reports, publish=deps.publish).all(),
            ],
        )
        if deps.reports is not None
        else ([], [])
    )
    return {
        REPORTS: (
            [
                *reports[0],
                *([ScheduledCostExportWorkflow, RunCostExportWorkflow] if deps.exports is not None else []),
            ],
            [
                *reports[1],
                *(ExportActivities(deps.engine, deps.exports).all() if deps.exports is not None else []),
            ],
        ),
        COLLECTION: ([CollectAllWorkflow, CollectAccountWorkflow], collection.all()),
        PROCESSING: (
            [
                CleanupWorkflow,
                RetentionWorkflow,
                AnalyseOrganisationWorkflow,
                AnalyseAllWorkflow,
                EvaluateBudgetsWorkflow,
                RefreshPricesWorkflow,
                DeliverNotificationsWorkflow,
                SendDigestsWorkflow,
                ReallocateCostsWorkflow,
                SyncTicketsWorkflow,
            ],
            [
                allocation.months,
                allocation.allocate_month,
                allocation.activate,
                maintenance.purge_expired_tokens,
                maintenance.prune_audit_logs,
                maintenance.retention_family,
                prices.refresh_provider,
                notifications.deliver_due,
                notifications.send_digests,
                tickets.organisations,
                tickets.sync_organisation,
                *analysis.processing(),
            ],
        ),
        ML: ([RefreshForecastsWorkflow], analysis.ml()),
        REMEDIATION: (
            remediation.workflows(),
            remediation.activities(
                RemediationDeps(
                    sessions=deps.sessions,
                    providers=provider_by_account_id(deps),
                    publish=deps.publish,
                    approval_keys=deps.approval_keys,
                    public_url=deps.public_url,
                    console_url=deps.console_url,
                )
            ),
        ),
    }


def build_workers(
    client: Client,
    deps: WorkerDeps,
    queues: Sequence[str],
    executor: ThreadPoolExecutor,
    *,
    queue_names: dict[str, str] | None = None,
    max_concurrent_activities: int | None = None,
) -> list[Worker]:
    """One Temporal ``Worker`` per task queue; ``queue_names`` renames queues (tests isolate with it).

    ``max_concurrent_activities`` should not exceed the executor's threads (sync activities wait for one).
    """
    table = registrations(deps)
    workers = []
    for queue in queues:
        workflows, activities = table.get(queue, ([], []))
        if not workflows and not activities:
            log.info("no workflows on queue %s yet; not polling it", queue)
            continue
        workers.append(
            Worker(
                client,
                task_queue=(queue_names or {}).get(queue, queue),
                workflows=workflows,
                activities=activities,
                activity_executor=executor,
                max_concurrent_activities=max_concurrent_activities or ACTIVITY_THREADS,
                interceptors=[AuditInterceptor(deps.sessions)],
            )
        )
    return workers


async def run(
    settings: Settings,
    queues: Sequence[str],
    threads: int | None = None,
    *,
    health_port: int | None = None,
    health_host: str = "0.0.0.0",  # noqa: S104 - probes reach the pod/container address
    temporal_metrics_port: int | None = None,
) -> None:
    """Poll ``queues`` until SIGINT/SIGTERM with ``threads`` activity threads (default: the setting).

    With ``health_port`` the process answers ``GET /healthz`` and ``GET /metrics`` there
    (:mod:`cloudoptima_workflows.health`); with ``temporal_metrics_port`` the Temporal SDK exports its worker
    metrics on that port of ``health_host`` (:mod:`cloudoptima_workflows.telemetry`). With an OTLP endpoint
    configured, workflows, activities, SQL and AWS calls are traced (:mod:`cloudoptima.observability.tracing`;
    spans are flushed when the worker stops).
    """
    configure_tracing(settings, WORKER)
    try:
        await _run(settings, queues, threads, health_port, health_host, temporal_metrics_port)
    finally:
        shutdown_tracing()


async def _run(
    settings: Settings,
    queues: Sequence[str],
    threads: int | None,
    health_port: int | None,
    health_host: str,
    temporal_metrics_port: int | None,
) -> None:
    threads = threads or settings.worker_activity_threads
    runtime = None
    if temporal_metrics_port is not None:
        runtime = runtime_with_metrics(health_host, temporal_metrics_port)
    client = await connect(
        settings.resolved_temporal_address(), namespace=settings.temporal_namespace, runtime=runtime
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.schedules_enabled:
        outcome = await ensure_schedules(client, settings)
        log.info("schedules: %s", ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
    deps = build_deps(settings)
    with ThreadPoolExecutor(max_workers=threads) as executor:
        workers = build_workers(client, deps, queues, executor, max_concurrent_activities=threads)
        log.info(
            "worker polling %s with %d activity threads", ", ".join(w.task_queue for w in workers), threads
        )
        tasks = [asyncio.create_task(worker.run(), name=f"queue {worker.task_queue}") for worker in workers]
        background: list[asyncio.Task[None]] = []
        server: asyncio.Server | None = None
        if health_port is not None:
            health = WorkerHealth(workers, client.service_client.check_health, time.monotonic, tasks=tasks)
            background.append(asyncio.create_task(health.watch(stop)))
            server = await health.serve(health_host, health_port)
        await stop.wait()
        if server is not None:
            server.close()
        await asyncio.gather(*(worker.shutdown() for worker in workers))
        await asyncio.gather(*tasks, *background, return_exceptions=True)
    deps.engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cloudoptima worker")
    parser.add_argument("--queues", default=",".join(ALL_QUEUES), help="comma-separated task queues")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="activity threads (default: CLOUDOPTIMA_WORKER_THREADS, else 16)",
    )
    parser.add_argument(
        "--health-port",
        type=int,
        default=None,
        help=f"answer GET {HEALTH_PATH} and GET /metrics on this port (liveness for containers; default: off)",
    )
    parser.add_argument(
        "--temporal-metrics-port",
        type=int,
        default=None,
        help=f"export the Temporal SDK's worker metrics on this port (e.g. {DEFAULT_TEMPORAL_METRICS_PORT}; "
        "default: off)",
    )
    parser.add_argument("--health-host", default="0.0.0.0", help="bind address of the health endpoint")  # noqa: S104
    args = parser.parse_args(argv)
    if args.threads is not None and not 1 <= args.threads <= 256:
        parser.error(f"--threads must be between 1 and 256, got {args.threads}")
    if args.health_port is not None and not 1 <= args.health_port <= 65535:
        parser.error(f"--health-port must be between 1 and 65535, got {args.health_port}")
    if args.temporal_metrics_port is not None and not 1 <= args.temporal_metrics_port <= 65535:
        parser.error(f"--temporal-metrics-port must be between 1 and 65535, got {args.temporal_metrics_port}")
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = sorted(set(queues) - set(ALL_QUEUES))
    if unknown:
        parser.error(f"unknown queue(s): {', '.join(unknown)}; known: {', '.join(ALL_QUEUES)}")
    settings = load_settings()
    # one JSON object per line, as the gateway logs, naming the request, organisation, workflow and activity
    configure_json_logging(settings.log_level)
    asyncio.run(
        run(
            settings,
            queues,
            args.threads,
            health_port=args.health_port,
            health_host=args.health_host,
            temporal_metrics_port=args.temporal_metrics_port,
        )
    )


if __name__ == "__main__":
    main()
