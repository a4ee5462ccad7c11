"""How every CloudOptima process talks to Temporal: one wire format, Temporal's pydantic data converter.

Workflows, activities, queries, updates, signals and schedules exchange pydantic models (``Decimal`` money
as decimal strings, UTC datetimes as ISO 8601); every client — the worker, the gateway, the MCP servers, the
CLI, tests and benchmarks — must use :data:`DATA_CONVERTER`, or payloads written by one process would not
read back as the same types in another. :func:`connect` is the one way to open a client.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from cloudoptima_workflows.log_propagation import LogContextInterceptor
from cloudoptima_workflows.tracing import tracing_interceptors

__all__ = ["DATA_CONVERTER", "connect"]

DATA_CONVERTER: DataConverter = pydantic_data_converter
"""The data converter of every Temporal client, worker, replayer and test environment of CloudOptima."""


async def connect(address: str, *, namespace: str = "default", runtime: Runtime | None = None) -> Client:
    """A Temporal client on ``address`` / ``namespace`` that speaks :data:`DATA_CONVERTER` and carries the log
    context (:mod:`cloudoptima_workflows.log_propagation`; workers built on it too) and, while tracing is on,
    Temporal's tracing interceptor outside it (:mod:`cloudoptima_workflows.tracing`); ``runtime`` (the SDK's
    telemetry: the worker's Prometheus exporter) defaults to the SDK's default runtime."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=DATA_CONVERTER,
        runtime=runtime,
        interceptors=[*tracing_interceptors(), LogContextInterceptor()],
    )
