"""One JSON object per log line, carrying who and what the line is about, in the gateway and the worker alike.

Contract:

* :func:`configure_json_logging` sends every record of the process to stderr (or ``stream``) as one JSON
  object: ``timestamp``, ``levelname``, ``name``, ``message``, any ``extra`` fields, and always the context
  fields :data:`FIELDS` (``"-"`` when unknown): ``request_id`` and ``organization_id`` (the REST request that
  caused the work, carried into workflows and activities by :mod:`cloudoptima_workflows.log_propagation`),
  ``workflow_id``, ``run_id``, ``activity_id`` and ``activity_type`` (inside a Temporal activity, read from
  the SDK), ``trace_id`` and ``span_id`` (the current OpenTelemetry span, while tracing is on:
  :mod:`cloudoptima.observability.tracing`).
* :func:`bind` sets context fields for a block (nested blocks see the outer ones; leaving restores them).
  :func:`annotate` adds fields to the innermost bound block *in place*, so a later step of the same request
  (the gateway's authentication naming the organisation) reaches the request's own access line even from a
  copied context (a thread or a task started inside the request).
* Nothing here reads the wall clock or the environment; a record's timestamp is the logging module's.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, TextIO

from pythonjsonlogger.json import JsonFormatter
from temporalio import activity

from cloudoptima.observability.tracing import current_ids

FIELDS: Final = (
    "request_id",
    "organization_id",
    "workflow_id",
    "run_id",
    "activity_id",
    "activity_type",
    "trace_id",
    "span_id",
)
UNKNOWN: Final = "-"

_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "cloudoptima_log_context", default=None
)


def current() -> dict[str, str]:
    """The context fields bound now (a copy)."""
    return dict(_CONTEXT.get() or {})


@contextmanager
def bind(**fields: str | None) -> Iterator[dict[str, str]]:
    """Bind ``fields`` (``None`` values are skipped) for the block; yields the block's mutable field map."""
    merged = {**(_CONTEXT.get() or {}), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _CONTEXT.set(merged)
    try:
        yield merged
    finally:
        _CONTEXT.reset(token)


def annotate(**fields: str | None) -> None:
    """Add ``fields`` to the innermost bound block in place (no block bound: nothing happens)."""
    bound = _CONTEXT.get()
    if bound is not None:
        bound.update({k: str(v) for k, v in fields.items() if v is not None})


class ContextFilter(logging.Filter):
    """Puts every field of :data:`FIELDS` on each record: the bound context, the running activity, then the
    current span's ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = dict.fromkeys(FIELDS, UNKNOWN)
        values.update(_CONTEXT.get() or {})
        if activity.in_activity():
            info = activity.info()
            values.update(
                workflow_id=info.workflow_id or UNKNOWN,
                run_id=info.workflow_run_id or UNKNOWN,
                activity_id=info.activity_id,
                activity_type=info.activity_type,
            )
        ids = current_ids()
        if ids is not None:
            values["trace_id"], values["span_id"] = ids
        for name, value in values.items():
            if name in FIELDS:
                setattr(record, name, value)
        return True


def json_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler writing the JSON lines of the module contract to ``stream`` (default: stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s " + " ".join(f"%({f})s" for f in FIELDS),
            timestamp=True,
        )
    )
    handler.addFilter(ContextFilter())
    return handler


def configure_json_logging(level: str, stream: TextIO | None = None) -> None:
    """Make :func:`json_handler` the root logger's only handler, at ``level``."""
    root = logging.getLogger()
    root.handlers[:] = [json_handler(stream)]
    root.setLevel(level.upper())
