"""Nodes of the root-cause graph: gather evidence with tools, write, check grounding.

Contract:
- ``gather`` loads the incident (unless evidence was given) and adds billed items, inventory changes,
  audit events, similar past incidents and runbook entries from :class:`RootCauseTools` (each optional).
- ``write`` sends the safety rules, the task and the redacted evidence to the model.
- ``check`` accepts a draft only when :func:`cloudoptima_agents.grounding.check` finds no unsupported number, id or
  date; otherwise it asks for one rewrite naming them, and after ``MAX_ATTEMPTS`` drafts it uses the offline
  template instead (labelled), so a stored explanation is always grounded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from cloudoptima_agents import grounding
from cloudoptima_agents.offline import OFFLINE_LABEL, OfflineChatModel
from cloudoptima_agents.root_cause.evidence import (
    AnomalyEvidence,
    AuditFact,
    BilledItem,
    InventoryChange,
    RunbookRef,
    SimilarIncident,
)
from cloudoptima_agents.root_cause.state import RootCauseState
from cloudoptima_agents.root_cause.template import offline_explanation
from cloudoptima_agents.runbook import match
from cloudoptima_agents.safety import SYSTEM_RULES, redact

MAX_ATTEMPTS = 2
PROMPT = (
    "You are CloudOptima's root-cause explainer for cloud cost anomalies. Using ONLY the evidence JSON, "
    "write one short paragraph (at most 150 words) that says what changed, where, since when, how much, "
    "the likely cause and what to do next. Copy amounts, percentages, resource ids and ISO dates exactly as "
    "they appear in the evidence; do not compute, round or invent any number, id or date. If the evidence "
    "does not show a cause, say so.\nTASK: root_cause"
)


def _runbooks(evidence: AnomalyEvidence) -> list[RunbookRef]:
    words = " ".join(
        [
            "anomaly spike",
            evidence.scope_label,
            *(c.label for c in evidence.contributors),
            *("launched new instances" for item in evidence.billed_items if item.new_in_window),
        ]
    )
    return [RunbookRef(slug=e.slug, title=e.title) for e in match(words, limit=2)]


@dataclass
class RootCauseTools:
    """Where the graph gets its evidence; any source left out is skipped."""

    load: Callable[[str], AnomalyEvidence] | None = None
    billed_items: Callable[[AnomalyEvidence], list[BilledItem]] | None = None
    inventory_changes: Callable[[AnomalyEvidence, list[str]], list[InventoryChange]] | None = None
    audit_events: Callable[[AnomalyEvidence, list[str]], list[AuditFact]] | None = None
    similar: Callable[[AnomalyEvidence], list[SimilarIncident]] | None = None
    runbooks: Callable[[AnomalyEvidence], list[RunbookRef]] = _runbooks


def gather(tools: RootCauseTools) -> Callable[[RootCauseState], dict[str, Any]]:
    def node(state: RootCauseState) -> dict[str, Any]:
        if "evidence" in state:
            evidence = AnomalyEvidence.model_validate(state["evidence"])
        elif tools.load is not None and "anomaly_id" in state:
            evidence = tools.load(state["anomaly_id"])
        else:
            raise ValueError("the root-cause graph needs an anomaly_id and a loader, or evidence")
        update: dict[str, Any] = {}
        if tools.billed_items is not None and not evidence.billed_items:
            update["billed_items"] = tools.billed_items(evidence)
        ids = [item.resource_id for item in update.get("billed_items", evidence.billed_items)]
        if tools.inventory_changes is not None and ids:
            update["inventory_changes"] = tools.inventory_changes(evidence, ids)
        if tools.audit_events is not None and ids:
            update["audit_events"] = tools.audit_events(evidence, ids)
        if tools.similar is not None:
            update["similar"] = tools.similar(evidence)
        update["runbooks"] = tools.runbooks(evidence)
        full = evidence.model_copy(update=update)
        return {"evidence": full.model_dump(mode="json"), "attempts": 0}

    return node


def write(model: BaseChatModel) -> Callable[[RootCauseState], dict[str, Any]]:
    def node(state: RootCauseState) -> dict[str, Any]:
        body = json.dumps(redact(state["evidence"]), ensure_ascii=False)
        message = f"<evidence>{body}</evidence>"
        if state.get("feedback"):
            message += f"\n\n{state['feedback']}"
        reply = model.invoke([SystemMessage(f"{SYSTEM_RULES}\n\n{PROMPT}"), HumanMessage(message)])
        text = reply.content if isinstance(reply.content, str) else str(reply.text)
        return {"draft": text.strip(), "attempts": state.get("attempts", 0) + 1}

    return node


def check(model: BaseChatModel) -> Callable[[RootCauseState], dict[str, Any]]:
    offline = isinstance(model, OfflineChatModel)

    def node(state: RootCauseState) -> dict[str, Any]:
        draft = state.get("draft", "")
        found = grounding.check(draft, state["evidence"], ignore=[OFFLINE_LABEL])
        if found.ok and draft:
            return {"explanation": draft, "source": "offline" if offline else "model", "unsupported": ""}
        if state.get("attempts", 0) < MAX_ATTEMPTS:
            return {
                "feedback": (
                    "Your previous draft stated facts that are not in the evidence "
                    f"({found.describe()}). Rewrite it using only values copied from the evidence."
                ),
                "unsupported": found.describe(),
            }
        fallback = offline_explanation(AnomalyEvidence.model_validate(state["evidence"]))
        return {"explanation": fallback, "source": "offline_fallback", "unsupported": found.describe()}

    return node


def after_check(state: RootCauseState) -> str:
    return "done" if state.get("explanation") else "write"
