"""Catalog tools as LangChain tools, and the chat agent's allow-list.

Contract:
- ``as_langchain_tool(spec, ctx)`` wraps one catalog :class:`cloudoptima_tools.spec.ToolSpec` as a ``StructuredTool``
  whose argument schema is the spec's pydantic input model. Calls go through ``cloudoptima_tools.spec.run_tool`` (input
  validation, RBAC, output budget) with the caller's ``ToolContext``; the result is returned as inert,
  redacted data (:func:`cloudoptima_agents.safety.as_data`); a ``ToolError`` comes back as ``{"error": message}`` so the
  model can correct itself.
- ``chat_allowed(spec)`` is the chat agent's rule: read-only tools, plus ``request_remediation`` (which only
  starts an approval-gated workflow). Nothing destructive is ever offered.
- ``chat_tools(ctx, specs, runbooks)`` builds the chat tool list: the allowed catalog tools plus
  ``search_runbooks`` over the runbook corpus (semantic recall when a search function is given).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field

from cloudoptima_agents.runbook import match
from cloudoptima_agents.safety import as_data
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolError, ToolSpec, run_tool

REQUEST_REMEDIATION = "request_remediation"
RunbookSearch = Callable[[str, int], list[dict[str, Any]]]


def chat_allowed(spec: ToolSpec[Any, Any]) -> bool:
    """True for the tools the chat agent may call (see module contract)."""
    if spec.name == REQUEST_REMEDIATION:
        return True
    return spec.read_only and not spec.destructive


def as_langchain_tool(spec: ToolSpec[Any, Any], ctx: ToolContext) -> BaseTool:
    """One catalog tool bound to the caller's context (see module contract)."""

    def call(**arguments: Any) -> str:
        try:
            output = run_tool(spec, ctx, arguments)
        except ToolError as exc:
            return as_data(spec.name, {"error": str(exc)})
        return as_data(spec.name, output.model_dump(mode="json"))

    return StructuredTool.from_function(
        func=call,
        name=spec.name,
        description=spec.description,
        args_schema=spec.input_model,
        infer_schema=False,
    )


class RunbookQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="What the user wants to do, e.g. 'clean up orphaned snapshots'.")
    limit: int = Field(default=3, ge=1, le=5, description="How many entries (1-5).")


def _local_search(query: str, limit: int) -> list[dict[str, Any]]:
    return [{"slug": e.slug, "title": e.title, "text": e.body} for e in match(query, limit=limit)]


def runbook_tool(search: RunbookSearch | None = None) -> BaseTool:
    """``search_runbooks``: FinOps runbook entries for a task (semantic when ``search`` is given)."""
    find = search or _local_search

    def call(query: str, limit: int = 3) -> str:
        found = find(query, limit) or _local_search(query, limit)
        return as_data("search_runbooks", {"items": found})

    return StructuredTool.from_function(
        func=call,
        name="search_runbooks",
        description=(
            "Search CloudOptima's FinOps runbook (idle VMs, rightsizing, orphaned snapshots, commitments, "
            'anomaly triage...) for how to handle a situation. Example: {"query": "idle virtual machines"}'
        ),
        args_schema=RunbookQuery,
        infer_schema=False,
    )


def chat_tools(
    ctx: ToolContext, specs: Sequence[ToolSpec[Any, Any]], runbooks: RunbookSearch | None = None
) -> list[BaseTool]:
    """The chat agent's tools (see module contract)."""
    allowed = [as_langchain_tool(spec, ctx) for spec in specs if chat_allowed(spec)]
    return [*allowed, runbook_tool(runbooks)]
