"""The Temporal SDK's worker metrics for Prometheus: the SDK runtime a worker process connects with.

Contract: :func:`runtime_with_metrics` returns a ``temporalio.runtime.Runtime`` whose Prometheus exporter
listens on ``host:port`` (``GET /metrics`` there: ``temporal_workflow_task_*``, ``temporal_activity_*``,
``temporal_worker_task_slots_*``, ``temporal_*_poll_*`` … with a ``task_queue`` label, the bounded set of
queues) as soon as it is built; counters end in ``_total`` and latency histograms (``*_latency``, no unit
suffix) are in seconds, which the dashboards in ``deploy/grafana/dashboards`` query. A port already in use raises
``RuntimeError`` naming it. The worker builds one only with ``--temporal-metrics-port`` (off by default).
"""

from __future__ import annotations

from typing import Final

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

DEFAULT_TEMPORAL_METRICS_PORT: Final = 9464
"""The port ``deploy/`` files give ``--temporal-metrics-port``."""


def runtime_with_metrics(host: str, port: int) -> Runtime:
    """An SDK runtime exporting the worker's Temporal metrics on ``host:port`` (see the module contract)."""
    try:
        return Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(
                    bind_address=f"{host}:{port}", counters_total_suffix=True, durations_as_seconds=True
                )
            )
        )
    except Exception as exc:  # the core raises a plain exception; name what could not bind
        raise RuntimeError(f"cannot export Temporal worker metrics on {host}:{port}: {exc}") from exc
