"""Nodes of the narrator graph: load evidence, write both narratives, check grounding.

Contract: the model must answer a JSON object with ``engineer`` and ``finance`` strings. A draft that is not
such an object, or that states a number, id or date not in the evidence, gets one rewrite request; after
``MAX_ATTEMPTS`` the offline template is used (``source = offline_fallback``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from cloudoptima_agents import grounding
from cloudoptima_agents.narrator.evidence import RecommendationEvidence
from cloudoptima_agents.narrator.state import NarratorState
from cloudoptima_agents.narrator.template import OFFLINE_LABEL, offline_narratives
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_agents.safety import SYSTEM_RULES, redact

MAX_ATTEMPTS = 2
AUDIENCES = ("engineer", "finance")
PROMPT = (
    "You are CloudOptima's recommendation narrator. From ONLY the evidence JSON (a recommendation and its "
    "impact preview), write two short narratives of at most 70 words each: for an engineer (what to change "
    "on which resource, the risk and the rollback) and for finance (monthly and annual savings, cost before "
    "and after, confidence). Copy numbers, resource ids and dates exactly; compute nothing. Answer with a "
    'JSON object only: {"engineer": "...", "finance": "..."}.\nTASK: narrative'
)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse(text: str) -> dict[str, str] | None:
    found = _OBJECT.search(text)
    if not found:
        return None
    try:
        data = json.loads(found.group(0))
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(a), str) and data[a] for a in AUDIENCES):
        return None
    return {a: str(data[a]).strip() for a in AUDIENCES}


def load(loader: Callable[[str], RecommendationEvidence] | None) -> Callable[[NarratorState], dict[str, Any]]:
    def node(state: NarratorState) -> dict[str, Any]:
        if "evidence" in state:
            evidence = RecommendationEvidence.model_validate(state["evidence"])
        elif loader is not None and "recommendation_id" in state:
            evidence = loader(state["recommendation_id"])
        else:
            raise ValueError("the narrator graph needs a recommendation_id and a loader, or evidence")
        return {"evidence": evidence.model_dump(mode="json"), "attempts": 0}

    return node


def write(model: BaseChatModel) -> Callable[[NarratorState], dict[str, Any]]:
    def node(state: NarratorState) -> dict[str, Any]:
        body = json.dumps(redact(state["evidence"]), ensure_ascii=False)
        message = f"<evidence>{body}</evidence>"
        if state.get("feedback"):
            message += f"\n\n{state['feedback']}"
        reply = model.invoke([SystemMessage(f"{SYSTEM_RULES}\n\n{PROMPT}"), HumanMessage(message)])
        text = reply.content if isinstance(reply.content, str) else str(reply.text)
        return {"draft": text, "attempts": state.get("attempts", 0) + 1}

    return node


def check(model: BaseChatModel) -> Callable[[NarratorState], dict[str, Any]]:
    offline = isinstance(model, OfflineChatModel)

    def node(state: NarratorState) -> dict[str, Any]:
        parsed = parse(state.get("draft", ""))
        problem = "the answer was not a JSON object with engineer and finance strings"
        if parsed is not None:
            found = grounding.check(" ".join(parsed.values()), state["evidence"], ignore=[OFFLINE_LABEL])
            if found.ok:
                return {"narratives": parsed, "source": "offline" if offline else "model", "unsupported": ""}
            problem = f"it stated facts that are not in the evidence ({found.describe()})"
        if state.get("attempts", 0) < MAX_ATTEMPTS:
            return {
                "feedback": f"Your previous answer was rejected: {problem}. Answer again.",
                "unsupported": problem,
            }
        fallback = offline_narratives(RecommendationEvidence.model_validate(state["evidence"]))
        return {"narratives": fallback, "source": "offline_fallback", "unsupported": problem}

    return node


def after_check(state: NarratorState) -> str:
    return "done" if state.get("narratives") else "write"
