"""Temporal's ``TracingInterceptor`` with CloudOptima's span attributes (imported only while tracing is on,
by :func:`cloudoptima_workflows.tracing.tracing_interceptors`: ``temporalio.contrib.opentelemetry`` loads the
OpenTelemetry SDK, a few hundred milliseconds no process with tracing off should pay).

Workflow spans also carry ``cloudoptima.request_id`` / ``cloudoptima.organization_id`` read from the log
context header the workflow was started with (:mod:`cloudoptima_workflows.log_propagation`).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.util.types import Attributes
from temporalio import workflow
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import WorkflowInterceptorClassInput

from cloudoptima.observability.tracing import ATTRIBUTE_PREFIX, TAGGED
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
    """``TracingInterceptor`` whose workflow side is :class:`_WorkflowSpans`."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the extern function that ends workflow spans
        return _WorkflowSpans
