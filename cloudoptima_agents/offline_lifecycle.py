"""Offline chat answers about the recommendation lifecycle (#22): who owns the accepted ones, what happened to one.

Contract:
- :func:`plan` (a question naming recommendations): with a recommendation id and "what happened", "history" or
  "who accepted / snoozed / dismissed / marked" → ``recommendation_history`` of that id; without an id, with
  "accepted", "who owns" or "owner" → ``recommendations_list`` of ``status=accepted`` (``overdue`` when the
  question says so); else None (the other offline answers apply). Only tools bound to the chat are called.
- :func:`compose` writes sentences over those results, values verbatim from the tools: the accepted count and
  monthly estimate, then per owner (by e-mail) the titles with their due dates, "overdue" for a due date
  before ``today`` (the caller's clock); for a history the title, state, owner and due date, then each
  transition (day, who, from → to, why), the latest :data:`SHOWN`. None when the results are not these.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_HISTORY = re.compile(r"what happened|history|who (accepted|snoozed|dismissed|marked|reopened)")
_ACCEPTED = re.compile(r"\baccepted\b|who owns|\bowners?\b|\bassigned\b")
SHOWN = 6
_NAMES = {
    "active": "open",
    "scheduled": "applying",
    "applied": "applying",
    "completed": "applied",
    "false_positive": "false positive",
}


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}


def plan(question: str, schemas: Sequence[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The lifecycle tool call answering ``question``, or None (see module contract)."""
    lower = question.lower()
    if "recommendation" not in lower:
        return None
    bound = {s["name"] for s in schemas}
    ids = _UUID.findall(question)
    if ids and _HISTORY.search(lower) and "recommendation_history" in bound:
        return [_call("recommendation_history", {"recommendation_id": ids[0]})]
    if not ids and _ACCEPTED.search(lower) and "recommendations_list" in bound:
        args: dict[str, Any] = {"status": "accepted", "sort_by": "savings", "limit": 50}
        if "overdue" in lower or "late" in lower:
            args["overdue"] = True
        return [_call("recommendations_list", args)]
    return None


def _state(value: Any) -> str:
    return _NAMES.get(str(value), str(value))


def _day(value: Any) -> str:
    return str(value or "")[:10]


def _accepted(data: dict[str, Any], today: date) -> list[str]:
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    total = int(data.get("total") or len(items))
    if not items:
        return ["No recommendation is accepted right now."]
    word = "recommendation is" if total == 1 else "recommendations are"
    sentences = [
        f"{total} {word} accepted, together worth {data.get('monthly_savings_total_usd')} USD a month."
    ]
    owners: dict[str, list[str]] = defaultdict(list)
    for item in items:
        due = _day(item.get("due_date"))
        late = ", overdue" if due and due < today.isoformat() else ""
        owners[str(item.get("owner") or "no owner")].append(f"{item.get('title')} (due {due}{late})")
    parts = [f"{owner} owns {'; '.join(titles)}" for owner, titles in sorted(owners.items())]
    sentences.append("By owner: " + "; ".join(parts) + ".")
    if total > len(items):
        sentences.append(f"There are {total - len(items)} more not listed here.")
    return sentences


def _history(data: dict[str, Any]) -> list[str]:
    owner = f", owned by {data['owner']} and due {_day(data.get('due_date'))}" if data.get("owner") else ""
    head = f"The recommendation {data.get('title')} is {_state(data.get('lifecycle'))}{owner}."
    steps = [s for s in data.get("history") or [] if isinstance(s, dict)]
    if not steps:
        return [head, "Nobody has changed it since it was found."]
    shown = steps[-SHOWN:]
    moves = []
    for step in shown:
        why = f" because {step['reason']}" if step.get("reason") else ""
        moves.append(
            f"on {_day(step.get('at'))} {step.get('actor')} moved it from {_state(step.get('from_status'))} "
            f"to {_state(step.get('to_status'))}{why}"
        )
    total = int(data.get("transitions") or len(steps))
    earlier = f" (the latest {len(shown)} of {total} changes)" if total > len(shown) else ""
    return [head, f"Its history{earlier}: " + "; ".join(moves) + "."]


def compose(question: str, results: Sequence[tuple[str, Any]], today: date) -> str | None:
    """Sentences over the lifecycle results, or None when they are not the ones :func:`plan` asks for."""
    if len(results) != 1 or not isinstance(results[0][1], dict):
        return None
    name, data = results[0]
    if "error" in data and len(data) <= 2:
        return None
    if name == "recommendation_history":
        return " ".join(_history(data))
    lower = question.lower()
    asked = "recommendation" in lower and _ACCEPTED.search(lower) and not _UUID.search(question)
    if name == "recommendations_list" and asked:
        return " ".join(_accepted(data, today))
    return None
