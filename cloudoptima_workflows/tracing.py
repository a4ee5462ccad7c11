"""Temporal's OpenTelemetry interceptor, on the provider ``cloudoptima.observability.tracing`` made active.

Contract:

* :func:`tracing_interceptors` is ``[]`` while tracing is off (nothing is added to any client or worker) and
  ``[TracingInterceptor]`` on the active provider otherwise; :func:`cloudoptima_workflows.connection.connect`
  puts it first (outermost) on every client, so the gateway's ``StartWorkflow`` span carries the trace into
  the Temporal header, and every worker built on such a client runs each workflow under a ``RunWorkflow``
  span and each activity under a ``RunActivity`` span of the same trace (Temporal's own span names).
* Workflow spans also carry ``cloudoptima.request_id`` / ``cloudoptima.organization_id`` read from the log
  context header the workflow was started with (:mod:`cloudoptima_workflows.log_propagation`); client and
  activity spans get them there (``tag_current_span``).
* Workflow spans are made only for workflows started under a span (the SDK's default): a scheduled run's
  activities start their own traces.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.util.types import Attributes
from temporalio import workflow
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import WorkflowInterceptorClassInput

from cloudoptima.observability.tracing import ATTRIBUTE_PREFIX, TAGGED, active_provider
from cloudoptima_workflows.log_propagation import HEADER, decode


class _WorkflowSpans(TracingWorkflowInboundInterceptor):
    """Temporal's workflow-side tracing, with the request and organisation on every span it completes."""

    def _completed_span(
        self, span_name: str, *, additional_attributes: Attributes = None, **kwargs: Any
    ) -> None:
        carried = decode(workflow.info().headers.get(HEADER))
        tags = {ATTRIBUTE_PREFIX + name: carried[name] for name in TAGGED if carried.get(name)}
        super()._completed_span(
            span_name, additional_attributes={**(additional_attributes or {}), **tags}, **kwargs
        )


class CloudOptimaTracingInterceptor(TracingInterceptor):
    """``TracingInterceptor`` whose workflow side is :class:`_WorkflowSpans` (see module contract)."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the extern function that ends workflow spans
        return _WorkflowSpans


def tracing_interceptors() -> list[TracingInterceptor]:
    """The interceptor to put first on a client while tracing is on; empty while it is off."""
    provider = active_provider()
    if provider is None:
        return []
    return [CloudOptimaTracingInterceptor(provider.get_tracer("temporalio.contrib.opentelemetry"))]
