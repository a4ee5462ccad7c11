"""Confirmation of state-changing tool calls: MCP elicitation when the client supports it, else two steps.

Contract: before a tool that is not read-only runs, a call without ``confirm=true`` is shown to the user
through elicitation (a yes/no form; the approve/reject tools word it with ``cloudoptima_tools.remediation``'s
``CONFIRMATION_PROMPTS``) when the client declared the elicitation capability; acceptance sets
``confirm=true``, anything else leaves it false. Clients without elicitation get the tool's own two-step
behaviour: the first call returns a preview and asks to call again with ``confirm=true``.

Both protocol eras are served: on handshake-era connections (``2025-*``) the server sends an
``elicitation/create`` request; on ``2026-07-28`` connections, which have no server-initiated requests,
the tool answers ``input_required`` with the same form (SEP-2322) and reads the answer when the client
retries the call.
"""

from __future__ import annotations

from typing import Any

import mcp_types
from fastmcp import Context
from fastmcp.server.elicitation import AcceptedElicitation

from cloudoptima_mcp.identity import Identity
from cloudoptima_tools.remediation import CONFIRMATION_PROMPTS
from cloudoptima_tools.spec import ToolSpec


def client_can_elicit(ctx: Context) -> bool:
    try:
        return bool(
            ctx.session.check_client_capability(
                mcp_types.ClientCapabilities(elicitation=mcp_types.ElicitationCapability())
            )
        )
    except (RuntimeError, AttributeError, ValueError):
        return False


_KEY = "confirm"


def _schema(title: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"value": {"type": "boolean", "title": title}},
        "required": ["value"],
    }


def _modern(ctx: Context) -> bool:
    check = getattr(ctx, "_is_modern_protocol", None)
    return bool(check()) if callable(check) else False


def _accepted(response: Any) -> bool:
    if not isinstance(response, mcp_types.ElicitResult) or response.action != "accept":
        return False
    return bool((response.content or {}).get("value"))


async def confirm_remediation(
    spec: ToolSpec[Any, Any], arguments: dict[str, Any], ctx: Context, identity: Identity
) -> dict[str, Any] | mcp_types.InputRequiredResult:
    """Arguments with ``confirm`` decided, or the input request to send (see module contract)."""
    if spec.read_only or _KEY not in spec.input_model.model_fields or arguments.get(_KEY):
        return arguments
    if not client_can_elicit(ctx):
        return arguments
    target = ", ".join(f"{k}={v}" for k, v in arguments.items() if k != _KEY and v is not None)
    prompt = CONFIRMATION_PROMPTS.get(spec.name)
    title = "Start the workflow" if prompt is None else spec.title
    message = (
        prompt.format(target=target)
        if prompt is not None
        else f"Start {spec.title.lower()} ({target})? It starts an approval-gated workflow: nothing changes in "
        "the cloud until an approver with the right role approves it."
    )
    if _modern(ctx):
        responses = ctx.input_responses
        if responses and _KEY in responses:
            return {**arguments, _KEY: _accepted(responses[_KEY])}
        request = mcp_types.ElicitRequest(
            params=mcp_types.ElicitRequestFormParams(message=message, requested_schema=_schema(title))
        )
        return mcp_types.InputRequiredResult(input_requests={_KEY: request})
    answer = await ctx.elicit(message, bool, response_title=title)
    confirmed = isinstance(answer, AcceptedElicitation) and bool(answer.data)
    return {**arguments, _KEY: confirmed}
