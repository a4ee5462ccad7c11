"""OpenTelemetry tracing end to end: one REST request that starts a workflow is one trace — the gateway's
server span, Temporal's StartWorkflow span, the workflow and activity spans of a real sandboxed worker on the
dev server, and the SQL spans under them — with the request id and the organisation on the spans, and the
activity's JSON log line naming the same trace. An AWS SDK call is a span too. With tracing off nothing is
installed: no SDK provider, no instrumented app, no Temporal interceptor, no span ids in log lines.

Spans go to the SDK's in-memory exporter, handed to ``configure_tracing`` the way a deployment hands it an
OTLP endpoint; the global provider is never set, so these tests leave no tracing behind."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.observability.log_context import json_handler
from cloudoptima.observability.tracing import (
    GATEWAY,
    WORKER,
    active_provider,
    configure_tracing,
    shutdown_tracing,
)
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import make_engine, session_factory
from cloudoptima_gateway.app import create_app
from cloudoptima_workflows.allocation.activities import AllocationActivities
from cloudoptima_workflows.allocation.inputs import ReallocateResult
from cloudoptima_workflows.allocation.workflows import ReallocateCostsWorkflow
from cloudoptima_workflows.connection import connect
from cloudoptima_workflows.queues import PROCESSING
from cloudoptima_workflows.tracing_interceptor import CloudOptimaTracingInterceptor
from tests.gateway.conftest import make_org

REQUEST_ID = "req-trace-0001"


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    address = temporal_env.client.service_client.config.target_host
    return Settings(
        state_dir=tmp_path,
        database_url=pg_url,
        redis_url=redis_url,
        temporal_address=address,
        log_level="WARNING",
        console_url="",
    )


@pytest.fixture
def exported(settings: Settings) -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """Tracing on for the test (what an OTLP endpoint does in a deployment), off again afterwards."""
    exporter = InMemorySpanExporter()
    provider = configure_tracing(settings, GATEWAY, exporter=exporter, install_global=False)
    assert provider is not None and active_provider() is provider
    try:
        yield provider, exporter
    finally:
        shutdown_tracing()
    assert active_provider() is None


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The JSON lines of the gateway's access log and of Temporal's activity logger (as the processes' root
    handler writes them)."""
    stream = io.StringIO()
    handler = json_handler(stream)
    loggers = [logging.getLogger(name) for name in ("cloudoptima.gateway.access", "temporalio.activity")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _attrs(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def _tagged(span: ReadableSpan, org: str) -> bool:
    attributes = _attrs(span)
    return (
        attributes.get("cloudoptima.request_id") == REQUEST_ID
        and attributes.get("cloudoptima.organization_id") == org
    )


async def test_a_request_that_starts_a_workflow_is_one_trace_down_to_the_database(
    settings: Settings,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    exported: tuple[TracerProvider, InMemorySpanExporter],
    json_lines: io.StringIO,
) -> None:
    provider, exporter = exported
    org = make_org(engine, settings, name="tracing")
    with TestClient(create_app(settings)) as http:
        created = http.post(
            "/v1/allocation/dimensions", headers=org.headers("finops_manager"), json={"name": "team"}
        )
        assert created.status_code == 201, created.text
        saved = http.put(
            f"/v1/allocation/dimensions/{created.json()['id']}/rules",
            headers={**org.headers("admin"), "X-Request-ID": REQUEST_ID},
            json={"rules": [{"value_from_tag": "team"}]},
        )
        assert saved.status_code == 200 and saved.json()["reallocation"]["status"] == "started", saved.text
        assert http.get("/health").status_code == 200  # not traced
    workflow_id = saved.json()["reallocation"]["workflow_id"]

    # The worker as worker.run builds it: a client from connect() (tracing + log context interceptors) and
    # an engine from the one factory, both made while tracing is on.
    target = temporal_env.client.service_client.config.target_host
    client = await connect(target, namespace=temporal_env.client.namespace)
    assert isinstance(client.config()["interceptors"][0], CloudOptimaTracingInterceptor)
    worker_engine = make_engine(settings.resolved_database_url(), pool_size=2)
    activities = AllocationActivities(session_factory(worker_engine))
    try:
        with ThreadPoolExecutor(2) as executor:
            async with Worker(
                client,
                task_queue=PROCESSING,
                workflows=[ReallocateCostsWorkflow],
                activities=[activities.months, activities.allocate_month, activities.activate],
                activity_executor=executor,
            ):
                handle = client.get_workflow_handle(workflow_id, result_type=ReallocateResult)
                result = await handle.result()
    finally:
        worker_engine.dispose()
    assert result.active
    provider.force_flush()

    spans = exporter.get_finished_spans()
    [server] = [s for s in spans if s.kind == SpanKind.SERVER and s.name.startswith("PUT /v1/allocation")]
    assert _tagged(server, str(org.id)) and server.parent is None
    trace_id = server.context.trace_id
    mine = {s.context.span_id: s for s in spans if s.context.trace_id == trace_id}
    by_name = {s.name: s for s in mine.values()}
    for name in (
        "StartWorkflow:ReallocateCosts",
        "RunWorkflow:ReallocateCosts",
        "RunActivity:allocation.months",
        "RunActivity:allocation.activate",
    ):
        assert name in by_name, (name, sorted(by_name))
        assert _tagged(by_name[name], str(org.id)), (name, _attrs(by_name[name]))
    start = by_name["StartWorkflow:ReallocateCosts"]
    assert start.parent is not None and start.parent.span_id == server.context.span_id

    # Every span of the trace hangs from the request: following parents always ends at the server span.
    def root_of(span: ReadableSpan) -> ReadableSpan:
        while span.parent is not None:
            span = mine[span.parent.span_id]
        return span

    assert all(root_of(span) is server for span in mine.values())
    database = [s for s in mine.values() if _attrs(s).get("db.system") == "postgresql"]
    activity_spans = {by_name[n].context.span_id for n in by_name if n.startswith("RunActivity:")}
    in_activities = [s for s in database if s.parent is not None and s.parent.span_id in activity_spans]
    in_request = [s for s in database if s.parent is not None and s.parent.span_id == server.context.span_id]
    assert in_activities and in_request, sorted(s.name for s in database)
    assert all(s.kind == SpanKind.CLIENT for s in database)
    assert not [s for s in spans if "/health" in s.name]
    assert {s.resource.attributes["service.name"] for s in mine.values()} == {GATEWAY}

    # The gateway's access line and the activity's log line name the request, the organisation and the same
    # trace (each its own span).
    records = [json.loads(raw) for raw in json_lines.getvalue().splitlines()]
    [access] = [r for r in records if r["message"] == "request" and r["request_id"] == REQUEST_ID]
    assert access["trace_id"] == format(trace_id, "032x")
    assert access["span_id"] == format(server.context.span_id, "016x")
    assert access["organization_id"] == str(org.id)
    # (filtered by workflow: reallocations other tests left on the queue may run on this worker too)
    [line] = [
        r for r in records if r["workflow_id"] == workflow_id and "allocation dimension" in r["message"]
    ]
    activate = by_name["RunActivity:allocation.activate"]
    assert line["trace_id"] == format(trace_id, "032x")
    assert line["span_id"] == format(activate.context.span_id, "016x")
    assert line["request_id"] == REQUEST_ID and line["organization_id"] == str(org.id)
    assert line["workflow_id"] == workflow_id and line["activity_type"] == "allocation.activate"


def test_an_aws_sdk_call_is_a_client_span_of_the_current_trace(
    exported: tuple[TracerProvider, InMemorySpanExporter], monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, exporter = exported
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws(), provider.get_tracer("test").start_as_current_span("collect") as parent:
        boto3.client("sts", region_name="us-east-1").get_caller_identity()
    provider.force_flush()
    [call] = [s for s in exporter.get_finished_spans() if s.name == "STS.GetCallerIdentity"]
    assert call.kind == SpanKind.CLIENT and _attrs(call)["rpc.service"] == "STS"
    assert call.parent is not None and call.parent.span_id == parent.get_span_context().span_id


def test_tracing_off_installs_nothing(settings: Settings, temporal_env: WorkflowEnvironment) -> None:
    assert settings.otlp_traces_endpoint is None
    assert configure_tracing(settings, WORKER) is None and active_provider() is None
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # the API's no-op proxy
    app = create_app(settings)
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    stream = io.StringIO()
    logger = logging.getLogger("tests.observability.tracing")
    logger.addHandler(handler := json_handler(stream))
    try:
        with TestClient(app) as http:
            assert http.get("/health").status_code == 200
            logger.warning("no span here")
    finally:
        logger.removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["trace_id"] == "-" and record["span_id"] == "-"


def test_the_endpoint_and_the_sdk_variables_decide(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base = Settings(state_dir=tmp_path, otel_exporter_otlp_endpoint="http://collector:4318/")
    assert base.otlp_traces_endpoint == "http://collector:4318/v1/traces"
    assert Settings(state_dir=tmp_path, otel_exporter_otlp_endpoint="").otlp_traces_endpoint is None
    assert (
        Settings(
            state_dir=tmp_path,
            otel_exporter_otlp_endpoint="http://collector:4318",
            otel_exporter_otlp_traces_endpoint="https://traces.example.com/otlp",
        ).otlp_traces_endpoint
        == "https://traces.example.com/otlp"
    )
    disabled = Settings(
        state_dir=tmp_path, otel_exporter_otlp_endpoint="http://c:4318", otel_sdk_disabled=True
    )
    assert disabled.otlp_traces_endpoint is None
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_ENDPOINT must be an http"):
        Settings(state_dir=tmp_path, otel_exporter_otlp_endpoint="collector:4318")

    # The SDK reads its own variables: here the sampler drops everything (nothing is ever sent).
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    provider = configure_tracing(base, WORKER, install_global=False)
    try:
        assert provider is not None and active_provider() is provider
        assert configure_tracing(base, WORKER, install_global=False) is provider  # idempotent
        assert provider.resource.attributes["service.name"] == WORKER
        assert provider.resource.attributes["service.version"]
        with provider.get_tracer("test").start_as_current_span("dropped") as span:
            assert not span.is_recording()
    finally:
        shutdown_tracing()
    assert active_provider() is None
