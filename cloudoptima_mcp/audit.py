"""Every MCP tool call lands in ``audit_logs`` (channel ``mcp``), whatever the tool: the one place tools are
dispatched (:func:`cloudoptima_mcp.registration.make_tool`) runs each call inside :func:`audited_call`.

Contract: one row per call once it has finished, with action = the tool's name, resource ``mcp_tool`` / the
tool's name, the caller (``user_id`` from the identity, actor ``api_key:<id>`` when an API key was
presented, else ``user:<id>``), the organisation, and details: the server, a bounded summary of the
arguments with secrets redacted (``cloudoptima.services.audit_summary``), whether the tool is read-only,
the result's size (JSON characters, rows of a paged result), the duration in milliseconds, and the error
message of a failed call. Result: ``success``; ``denied`` when the role lacks the tool's permission;
``failure`` for any other error (which is re-raised unchanged). A call answered with a confirmation request
(elicitation's two-step fallback) is recorded with ``confirmation_requested``. A failure to write the row is
logged and never fails the call. A caller that could not be identified is not recorded (no organisation).
The row is committed before the call returns; the rows of concurrent calls share one transaction
(:mod:`cloudoptima_mcp.audit_writer`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from fastmcp.tools import ToolResult

from cloudoptima.services.audit import AuditEntry, AuditResult
from cloudoptima.services.audit_summary import summarise
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_tools.spec import ToolPermissionError, ToolSpec

_log = logging.getLogger("cloudoptima.mcp.audit")
MAX_ERROR_CHARS = 500


@dataclass
class ToolCall:
    """What the tool call produced, filled in by the caller of :func:`audited_call`."""

    result: Any = None


def _user_id(identity: Identity) -> uuid.UUID | None:
    kind, _, value = identity.principal.partition(":")
    if kind != "user":
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _size(result: Any) -> dict[str, Any]:
    if isinstance(result, ToolResult):
        structured = result.structured_content
        size: dict[str, Any] = {"result_chars": len(json.dumps(structured, default=str)) if structured else 0}
        if isinstance(structured, dict) and isinstance(structured.get("returned"), int):
            size["result_rows"] = structured["returned"]
        return size
    return {"confirmation_requested": True, "result_chars": 0}


def _failure(exc: BaseException) -> AuditResult:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ToolPermissionError):
            return "denied"
        cause = cause.__cause__
    return "failure"


async def _write(runtime: Runtime, entry: AuditEntry) -> None:
    try:
        await runtime.audit_writer.write(entry)
    except Exception:
        _log.exception("audit record of an MCP tool call failed", extra={"tool": entry.action})


@asynccontextmanager
async def audited_call(
    runtime: Runtime,
    server: str,
    spec: ToolSpec[Any, Any],
    identity: Identity,
    arguments: dict[str, Any],
) -> AsyncIterator[ToolCall]:
    """Record the call made inside the block (see module contract)."""
    call = ToolCall()
    started = time.perf_counter()
    outcome: AuditResult = "success"
    details: dict[str, Any] = {
        "server": server,
        "arguments": summarise(arguments),
        "read_only": spec.read_only,
    }
    try:
        yield call
    except BaseException as exc:
        outcome = _failure(exc)
        details["error"] = str(exc)[:MAX_ERROR_CHARS] or type(exc).__name__
        raise
    else:
        details.update(_size(call.result))
    finally:
        details["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        entry = AuditEntry(
            organization_id=identity.organization_id,
            user_id=_user_id(identity),
            action=spec.name,
            result=outcome,
            resource_type="mcp_tool",
            resource_id=spec.name,
            details=details,
            channel="mcp",
            actor=identity.credential or identity.principal,
        )
        with anyio.CancelScope(shield=True):
            await _write(runtime, entry)
