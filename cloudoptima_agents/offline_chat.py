"""Keyword routing of a chat question to tools, and template answers over their results (offline mode).

Contract:
- ``route(question, schemas)`` returns tool calls ``{"name", "args", "id"}`` for the intents the question
  matches, each with the first bound tool whose name fits the intent and whose required arguments can be
  filled from the question (ids, ISO dates, provider, dimension, the question itself for search tools).
  Intents: remediation request (only with a recommendation id and an explicit verb), anomalies,
  recommendations, forecast, period comparison, top spenders, spend breakdown, budgets, runbooks.
- ``respond(messages, schemas, label, today)``: after a new human message → the tool calls of
  :func:`cloudoptima_agents.offline_lifecycle.plan` (accepted recommendations and their owners, what
  happened to a recommendation), else of :func:`cloudoptima_agents.offline_answers.plan` for the common
  questions (top spend, why cost changed,
  where to save, budgets at risk; periods resolved against ``today``, the caller's clock), else the routed
  tool calls (or a help answer listing what the offline mode answers when nothing matches); after tool
  results → :func:`cloudoptima_agents.offline_lifecycle.compose`'s or
  :func:`cloudoptima_agents.offline_answers.compose`'s sentences when it recognises them, else an
  answer listing each result's values verbatim. ``label`` prefixes every answer when not empty (the chat
  passes none: the stream's ``message`` event says the answer was written offline).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cloudoptima_agents import offline_answers, offline_lifecycle

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_DATA = re.compile(r"kind=data>\n[^\n]*\n(.*)\n</tool_result>", re.DOTALL)
MAX_ITEMS = 8
MAX_FIELDS = 7


@dataclass(frozen=True)
class Intent:
    name: str
    keywords: tuple[str, ...]
    tool_hints: tuple[str, ...]


INTENTS: tuple[Intent, ...] = (
    Intent("anomalies", ("anomal", "spike", "unusual", "unexpected", "jump"), ("anomal",)),
    Intent(
        "recommendations",
        ("recommend", "saving", "optimi", "rightsiz", "idle", "waste", "reduce", "cheaper"),
        ("recommendation",),
    ),
    Intent("forecast", ("forecast", "predict", "projection", "next month", "end of month"), ("forecast",)),
    Intent(
        "compare", ("compare", "compared", "versus", " vs ", "why did", "increase", "decrease"), ("compare",)
    ),
    Intent("top", ("top ", "biggest", "most expensive", "largest", "spender"), ("top_spender", "top")),
    Intent(
        "breakdown",
        ("spend", "cost", "bill", "by service", "by region", "by account", "breakdown"),
        ("cost_by_dimension", "by_dimension"),
    ),
    Intent("budgets", ("budget",), ("budget",)),
    Intent(
        "inventory",
        (
            "instance",
            " vm",
            "virtual machine",
            "disk",
            "volume",
            "snapshot",
            "bucket",
            "principal",
            "credential",
        ),
        ("idle_instances", "unattached_disks", "snapshots", "buckets", "stale_credentials", "instances"),
    ),
    Intent(
        "runbooks",
        ("how do i", "how to", "how should", "runbook", "best practice", "what should"),
        ("runbook",),
    ),
)
_REMEDIATE = ("remediate", "apply", "fix it", "execute", "implement", "request remediation")
_DIMENSIONS = ("service", "region", "account", "provider", "category")
_PROVIDERS = ("aws", "azure", "gcp")


def _properties(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    params = schema.get("parameters") or {}
    return dict(params.get("properties") or {}), list(params.get("required") or [])


def _fill(question: str, schema: dict[str, Any], intent: str) -> dict[str, Any] | None:
    """Arguments for ``schema`` from the question, or None when a required one cannot be filled."""
    props, required = _properties(schema)
    lower = question.lower()
    args: dict[str, Any] = {}
    ids = _UUID.findall(question)
    dates = _DATE.findall(question)
    for name, spec in props.items():
        kind = spec.get("type")
        if name.endswith("_id") and ids:
            args[name] = ids[0]
        elif name in ("query", "question", "text", "search") and kind in ("string", None):
            args[name] = question[:500]
        elif name == "group_by":
            choices = spec.get("enum") or list(_DIMENSIONS)
            picked = next((d for d in choices if f"by {d}" in lower or f"per {d}" in lower), None)
            args[name] = picked or ("service" if "service" in choices else choices[0])
        elif name == "provider":
            picked = next((p for p in _PROVIDERS if re.search(rf"\b{p}\b", lower)), None)
            if picked:
                args[name] = picked
        elif name == "start_date" and dates:
            args[name] = dates[0]
        elif name == "end_date" and len(dates) > 1:
            args[name] = dates[1]
        elif name == "limit" and kind == "integer":
            args[name] = min(10, int(spec.get("maximum", 10)))
    if any(name not in args for name in required):
        return None
    return args


def _pick(intent: Intent, schemas: list[dict[str, Any]], question: str) -> tuple[str, dict[str, Any]] | None:
    for hint in intent.tool_hints:
        candidates = sorted(
            (s for s in schemas if hint in s["name"]),
            key=lambda s: (not s["name"].startswith(("list", "get", intent.name)), s["name"]),
        )
        for schema in candidates:
            args = _fill(question, schema, intent.name)
            if args is not None:
                return schema["name"], args
    return None


def route(question: str, schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls for the question (see module contract)."""
    lower = f" {question.lower()} "
    calls: list[dict[str, Any]] = []
    wants_remediation = any(verb in lower for verb in _REMEDIATE) and "recommend" in lower
    if wants_remediation and _UUID.search(question):
        remediation = [s for s in schemas if s["name"] == "request_remediation"]
        if remediation:
            args = _fill(question, remediation[0], "remediation")
            if args is not None:
                return [{"name": "request_remediation", "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}]
    chosen: set[str] = set()
    for intent in INTENTS:
        if not any(k in lower for k in intent.keywords):
            continue
        if intent.name == "breakdown" and calls:
            continue  # a more specific cost intent already answers
        picked = _pick(intent, schemas, question)
        if picked and picked[0] not in chosen:
            chosen.add(picked[0])
            calls.append({"name": picked[0], "args": picked[1], "id": f"call_{uuid.uuid4().hex[:12]}"})
        if len(calls) >= 2:
            break
    return calls


def _payload(message: ToolMessage) -> Any:
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    found = _DATA.search(content)
    raw = found.group(1) if found else content
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _row(item: Any) -> str:
    if isinstance(item, dict):
        fields = [f"{k}: {v}" for k, v in item.items() if _scalar(v) and str(v) != ""][:MAX_FIELDS]
        return ", ".join(fields)
    return str(item)


def render(name: str, payload: Any) -> str:
    """One tool result as text, values copied verbatim."""
    if isinstance(payload, str):
        return f"{name}: {payload}"
    if not isinstance(payload, dict):
        return f"{name}: {json.dumps(payload, default=str)[:800]}"
    if "error" in payload and len(payload) <= 2:
        return f"{name} could not answer: {payload['error']}"
    head = [f"{k}: {v}" for k, v in payload.items() if _scalar(v) and k not in ("next_cursor",)][:MAX_FIELDS]
    lines = [f"{name}: " + (", ".join(head) if head else "results")]
    for key, value in payload.items():
        if isinstance(value, list) and value:
            for item in value[:MAX_ITEMS]:
                lines.append(f"  - {_row(item)}")
            if len(value) > MAX_ITEMS:
                lines.append(f"  (and {len(value) - MAX_ITEMS} more {key})")
            break
    return "\n".join(lines)


HELP = (
    f"{offline_answers.HELP} I can request a remediation for a recommendation id; a human must approve it "
    "before anything changes."
)


def respond(
    messages: list[BaseMessage], schemas: list[dict[str, Any]], label: str, today: date | None = None
) -> AIMessage:
    """The next assistant message (see module contract)."""
    today = today or datetime.now(UTC).date()
    label = f"{label} " if label else ""
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    if last_human < 0:
        return AIMessage(content=f"{label}{HELP}")
    after = messages[last_human + 1 :]
    results = [m for m in after if isinstance(m, ToolMessage)]
    if not after:
        question = str(messages[last_human].content)
        planned = offline_lifecycle.plan(question, schemas) or (
            None if _UUID.search(question) else offline_answers.plan(question, schemas, today)
        )
        calls = planned or (route(question, schemas) if schemas else [])
        if calls:
            return AIMessage(content="", tool_calls=calls)
        return AIMessage(content=f"{label}{HELP}")
    question = str(messages[last_human].content)
    payloads = [(m.name or "tool", _payload(m)) for m in results]
    written = offline_lifecycle.compose(question, payloads, today) or offline_answers.compose(
        question, payloads, today
    )
    if written is not None:
        return AIMessage(content=f"{label}{written}")
    parts = [f"{label}From the platform's tools (no language model is configured):"]
    for message in results:
        parts.append(render(message.name or "tool", _payload(message)))
    if any(m.name == "request_remediation" for m in results):
        parts.append("Nothing changes until a human approves the request.")
    return AIMessage(content="\n".join(parts))
