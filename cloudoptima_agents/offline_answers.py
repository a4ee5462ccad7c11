"""Readable offline answers to the common FinOps questions (no language model configured).

Contract:
- ``detect(question, today)`` recognises one of four intents, checked in this order: ``budgets`` ("which budgets are
  at risk", "are we over budget"), ``change`` ("why did cost go up", "why did EC2 jump yesterday"),
  ``savings`` ("where can we save", "how can I reduce cost") and ``top`` ("what did we spend most on last
  month", "top services in November", "top accounts this week"); ``allocation`` ("cost by team last month",
  "showback per product in November": spend asked by a word that is not a built-in dimension — service,
  region, account, provider, category, resource, tag — read as an allocation dimension's name, plural or
  not) is checked just before ``top``; None otherwise.
- ``plan(question, schemas, today)`` returns the tool calls (``{"name", "args", "id"}``) that answer it, over
  the same catalog tools the chat binds (so the numbers are the API's): ``cost_by_dimension`` /
  ``cost_top_spenders`` (top), ``cost_compare_periods`` (change), ``recommendations_list`` (savings),
  ``budgets_status`` (budgets), ``cost_by_allocation`` (allocation; ``cost_by_dimension`` grouped by the tag of
  that name when the allocation tool is not bound). Periods come from :func:`cloudoptima_agents.offline_periods.resolve` with
  ``today`` from the caller's clock and are always passed explicitly; defaults: top → the last 30 days,
  change → the last 7 days against the 7 before. None when no intent matches or its tool is not bound.
- ``compose(question, results, today)`` writes the answer from the tool results (``(tool name, payload)``): two to
  five sentences with the figures (money as Decimal rounded to cents with its currency, percentages,
  dates), never a dump of the payload. Accounts are named by their names (``name`` / ``account_name`` in the
  tools' items), with the id only when two shown accounts share a name (or no name is known). It does not name
  the tools it used (the chat shows them as tool calls). A tool error is said in words.
  None when the results are not those of a plan of this module.
- ``HELP`` lists what the offline mode answers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from cloudoptima_agents.offline_periods import Period, resolve

HELP = (
    "No language model is configured, so I answer the common questions from the platform's data: "
    'top spend for a period ("what did we spend most on last month?", "top accounts this week"), '
    'why cost changed ("why did EC2 jump yesterday?"), where to save ("where can we save?"), '
    'budgets at risk ("are we over budget?") and cost by an allocation dimension ("cost by team last month"). '
    "I also list anomalies, forecasts, resources and runbooks. "
    "Periods can be named: today, yesterday, this or last week, month, quarter or year, a month name "
    "such as November, the last 30 days, or two ISO dates."
)
TOP_LIMIT = 5
SHOWN = 3
CHANGE_DRIVERS = 50
CENT = Decimal("0.01")

_BUDGET = re.compile(r"\b(?:budgets?|over ?spend\w*|overrun\w*)\b")
_WHY = re.compile(r"\b(?:why|what (?:changed|drove|caused|happened)|explain|reason)\b")
_MOVE = re.compile(
    r"\b(?:up|down|jump\w*|increas\w*|ris\w*|rose|spik\w*|drop\w*|decreas\w*|fell|fall\w*|chang\w*|"
    r"high|higher|lower|grow\w*|grew|double\w*|more|less|expensive)\b"
)
_CHANGE_NO_WHY = re.compile(
    r"\b(?:cost|costs|spend|spending|bill)\b.*\b(?:go|went|gone|jump\w*|increas\w*|spik\w*|ris\w*)\b"
)
_MOVE_UP = re.compile(r"\b(?:up|jump\w*|increas\w*|ris\w*|rose|spik\w*|higher|grow\w*|grew|double\w*|more)\b")
_SAVE = re.compile(
    r"\b(?:sav\w*|reduc\w*|cut\w*|lower (?:our |my |the )?(?:cost|costs|bill|spend)|cheaper|optimi\w*|"
    r"waste\w*|recommend\w*|rightsiz\w*)\b"
)
_TOP = re.compile(
    r"\b(?:top|most|biggest|largest|highest|expensive|main|breakdown|break down|where (?:does|did|is) "
    r"(?:our |my |the )?money)\b"
)
_SPEND = re.compile(r"\b(?:spend|spent|spending|cost|costs|bill|billed|charges?)\b")
_DIMENSIONS: tuple[tuple[str, str], ...] = (
    (r"\baccounts?\b|\bsubscriptions?\b|\bprojects?\b", "account"),
    (r"\bregions?\b|\blocations?\b", "region"),
    (r"\bproviders?\b|\bclouds?\b", "provider"),
    (r"\bcategor(?:y|ies)\b", "category"),
    (r"\bresources?\b|\bspenders?\b|\binstances?\b|\bmachines?\b", "resource"),
    (r"\bservices?\b", "service"),
)
_PROVIDERS = ("aws", "azure", "gcp")
_ALLOCATION = re.compile(r"\b(?:by|per|for each|each|across) ([a-z][a-z0-9_]{1,62})\b")
_SHOWBACK = re.compile(r"\b(?:showback|chargeback|allocat\w*)\b")
_NOT_ALLOCATION = {
    *("service", "region", "account", "provider", "category", "categorie", "resource", "tag", "spender"),
    *("subscription", "project", "location", "cloud", "instance", "machine", "day", "week", "month", "year"),
    *("date", "cost", "spend", "the", "our", "my", "a", "an", "each", "value", "dimension", "far", "percent"),
    *("all", "hour", "usage", "amount", "total", "name", "type", "sku", "namespace", "label"),
}
SERVICE_ALIASES: dict[str, str] = {
    "ec2": "elastic compute cloud",
    "s3": "simple storage service",
    "rds": "relational database service",
    "vpc": "virtual private cloud",
    "elb": "elastic load balancing",
    "gce": "compute engine",
    "vms": "virtual machines",
    "vm": "virtual machines",
}
_TOOLS = {
    "top": ("cost_by_dimension", "cost_top_spenders"),
    "change": ("cost_compare_periods",),
    "savings": ("recommendations_list",),
    "budgets": ("budgets_status",),
    "allocation": ("cost_by_allocation", "cost_by_dimension"),
}


def allocation_dimension(question: str) -> str | None:
    """The allocation dimension a spend question names (``by team``, ``per products`` → ``product``), when it
    is not one of the built-in dimensions and the question is about spend (or showback / allocation)."""
    lower = question.lower()
    if not (_SPEND.search(lower) or _TOP.search(lower) or _SHOWBACK.search(lower)):
        return None
    for found in _ALLOCATION.finditer(lower):
        word = found.group(1)
        single = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
        if word not in _NOT_ALLOCATION and single not in _NOT_ALLOCATION:
            return single
    return None


def detect(question: str, today: date) -> str | None:
    """The intent of ``question`` (see module contract)."""
    lower = question.lower()
    if _BUDGET.search(lower):
        return "budgets"
    if (_WHY.search(lower) and _MOVE.search(lower)) or _CHANGE_NO_WHY.search(lower):
        return "change"
    if _SAVE.search(lower):
        return "savings"
    if allocation_dimension(question) is not None:
        return "allocation"
    if _TOP.search(lower) or (_SPEND.search(lower) and resolve(question, today) is not None):
        return "top"
    return None


def _dimension(lower: str) -> str:
    tag = re.search(r"\b(?:by|per) tag[: ]+([A-Za-z0-9_.\-/]+)", lower)
    if tag:
        return f"tag:{tag.group(1)}"
    return next((dim for pattern, dim in _DIMENSIONS if re.search(pattern, lower)), "service")


def _provider(lower: str) -> str | None:
    return next((p for p in _PROVIDERS if re.search(rf"\b{p}\b", lower)), None)


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}


def plan(question: str, schemas: Sequence[dict[str, Any]], today: date) -> list[dict[str, Any]] | None:
    """Tool calls answering ``question`` (see module contract)."""
    intent = detect(question, today)
    if intent is None:
        return None
    bound = {s["name"] for s in schemas}
    lower = question.lower()
    provider = _provider(lower)
    scope: dict[str, Any] = {"provider": provider} if provider else {}
    if intent == "budgets":
        if "budgets_status" not in bound:
            return None
        return [_call("budgets_status", {"as_of": today.isoformat(), "limit": 100})]
    if intent == "savings":
        if "recommendations_list" not in bound:
            return None
        args: dict[str, Any] = {"sort_by": "savings", "limit": TOP_LIMIT, **scope}
        category = re.search(r"\b(compute|storage|network|database)\b", lower)
        if category:
            args["category"] = category.group(1)
        return [_call("recommendations_list", args)]
    period = resolve(question, today)
    if intent == "change":
        if "cost_compare_periods" not in bound:
            return None
        period = period or Period(today - timedelta(days=7), today, "the last 7 days")
        return [
            _call(
                "cost_compare_periods",
                {
                    "start_date": period.start.isoformat(),
                    "end_date": period.end.isoformat(),
                    "previous_start_date": period.baseline_start().isoformat(),
                    "group_by": "service",
                    "top_drivers": CHANGE_DRIVERS,
                    **scope,
                },
            )
        ]
    period = period or Period(today - timedelta(days=30), today, "the last 30 days")
    dates = {"start_date": period.start.isoformat(), "end_date": period.end.isoformat(), **scope}
    if intent == "allocation":
        name = allocation_dimension(question) or ""
        window = {"start_date": dates["start_date"], "end_date": dates["end_date"]}
        if "cost_by_allocation" in bound:
            return [_call("cost_by_allocation", {"dimension": name, **window})]
        if "cost_by_dimension" not in bound:
            return None
        return [_call("cost_by_dimension", {**dates, "group_by": f"tag:{name}", "limit": TOP_LIMIT})]
    dimension = _dimension(lower)
    if dimension == "resource":
        if "cost_top_spenders" not in bound:
            return None
        return [_call("cost_top_spenders", {**dates, "limit": TOP_LIMIT})]
    if "cost_by_dimension" not in bound:
        return None
    return [_call("cost_by_dimension", {**dates, "group_by": dimension, "limit": TOP_LIMIT})]


# ---- writing -------------------------------------------------------------------------------------------


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value: Any, currency: str) -> str:
    """``value`` rounded to cents with thousands separators and the currency, e.g. ``1,234.57 USD``."""
    amount = (_dec(value) or Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{amount:,} {currency}".strip()


def _pct(value: Any) -> str | None:
    number = _dec(value)
    return None if number is None else f"{number.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _span(start: Any, end: Any) -> str:
    """``start to last day`` of an end-exclusive period given as ISO strings."""
    try:
        first, stop = date.fromisoformat(str(start)), date.fromisoformat(str(end))
    except ValueError:
        return f"{start} to {end}"
    last = stop - timedelta(days=1)
    return str(first) if last <= first else f"{first} to {last}"


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def display_names(items: Sequence[dict[str, Any]], key: str = "key", name: str = "name") -> list[str]:
    """How each item is named in an answer: its ``name`` when it has one, with ``(id)`` appended only when two
    different ids among ``items`` share that name; its ``key`` (the raw id) when no name is known."""
    names = [str(i.get(name) or "").strip() for i in items]
    ids: dict[str, set[str]] = {}
    for item, found in zip(items, names, strict=True):
        if found:
            ids.setdefault(found, set()).add(str(item.get(key) or ""))
    shown = []
    for item, found in zip(items, names, strict=True):
        raw = str(item.get(key) or "")
        if not found or found == raw:
            shown.append(raw)
        else:
            shown.append(f"{found} ({raw})" if len(ids[found]) > 1 and raw else found)
    return shown


_NOUNS = {"account": "account", "region": "region", "provider": "provider", "category": "category"}


def _top_groups(question: str, data: dict[str, Any], today: date) -> list[str]:
    currency = str(data.get("currency") or "")
    dimension = str(data.get("group_by") or "service")
    noun = _NOUNS.get(dimension, "tag value" if dimension.startswith("tag:") else "service")
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    span = _span(data.get("start_date"), data.get("end_date"))
    label = _label(question, today, data.get("start_date"), data.get("end_date"))
    if not items:
        return [f"I found no cost data for {label} ({span}); it may not have been collected yet."]
    count = int(data.get("total") or len(items))
    first = (
        (
            f"For {label} ({span}) you spent {money(data.get('total_billed_cost'), currency)} in total "
            f"across {_plural(count, noun if noun != 'category' else 'categor')}"
        )
        .replace("categors", "categories")
        .replace("1 categor ", "1 category ")
    )
    shown = items[:SHOWN]
    parts = []
    for item, called in zip(shown, display_names(items), strict=False):
        share = _pct(item.get("percent_of_total"))
        parts.append(
            f"{called} at {money(item.get('billed_cost'), currency)}" + (f" ({share})" if share else "")
        )
    lead = "The largest was" if len(parts) == 1 else "The largest were"
    sentences = [first + ".", f"{lead} {_join(parts)}."]
    shares = [_dec(i.get("percent_of_total")) for i in shown]
    if len(shown) > 1 and all(s is not None for s in shares):
        together = sum((s for s in shares if s is not None), Decimal(0))
        sentences.append(f"Together these {len(shown)} make up {_pct(together)} of the spend.")
    return sentences


def _allocation(question: str, data: dict[str, Any], today: date) -> list[str]:
    """Showback in sentences: per currency the total and the largest values with their shares, unallocated
    always said, and what is not allocated yet (no active version, or cost newer than the last re-allocation)."""
    dimension = str(data.get("dimension") or "dimension")
    span = _span(data.get("start_date"), data.get("end_date"))
    label = _label(question, today, data.get("start_date"), data.get("end_date"))
    currencies = [c for c in data.get("currencies") or [] if isinstance(c, dict)]
    if data.get("version") is None:
        return [
            f"The {dimension} allocation has not been computed yet (its rules are still being applied), so I "
            f"cannot split {label} ({span}) by {dimension}; try again in a few minutes."
        ]
    if not currencies:
        return [
            f"I found no allocated cost by {dimension} for {label} ({span}); it may not have been collected yet."
        ]
    sentences: list[str] = []
    for item in currencies[:2]:
        currency = str(item.get("currency") or "")
        values = [v for v in item.get("values") or [] if isinstance(v, dict)]
        parts = [
            f"{v.get('value')} at {money(v.get('cost'), currency)} ({_pct(v.get('share_percent'))})"
            for v in values[:SHOWN]
            if v.get("value") != "unallocated"
        ]
        unallocated = next((v for v in values if v.get("value") == "unallocated"), None)
        count = len(values) + int(item.get("values_left_off") or 0)
        sentences.append(
            f"For {label} ({span}) {money(item.get('total_cost'), currency)} was split over "
            f"{_plural(count, dimension + ' value')}"
            + (f"; the largest {'was' if len(parts) == 1 else 'were'} {_join(parts)}." if parts else ".")
        )
        left = money(unallocated.get("cost") if unallocated else 0, currency)
        share = _pct(unallocated.get("share_percent")) if unallocated else None
        sentences.append(f"Unallocated: {left}" + (f" ({share})." if share else "."))
    if len(currencies) > 2:
        sentences.append(f"Costs in {len(currencies) - 2} more currencies are not summed with these.")
    return sentences


def _top_resources(question: str, data: dict[str, Any], today: date) -> list[str]:
    currency = str(data.get("currency") or "")
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    span = _span(data.get("start_date"), data.get("end_date"))
    label = _label(question, today, data.get("start_date"), data.get("end_date"))
    if not items:
        return [f"I found no resource costs for {label} ({span}); they may not have been collected yet."]
    parts = []
    for item in items[:SHOWN]:
        name = item.get("resource_name") or item.get("resource_id")
        where = ", ".join(
            str(item.get(f"{k}_name") or item[k]) for k in ("service", "account") if item.get(k)
        )
        parts.append(
            f"{name}" + (f" ({where})" if where else "") + f" at {money(item.get('billed_cost'), currency)}"
        )
    total = int(data.get("total") or len(items))
    return [
        f"For {label} ({span}) the resources that cost the most were {_join(parts)}.",
        f"{_plural(total, 'resource')} had charges in that period.",
    ]


def _label(question: str, today: date, start: Any, end: Any) -> str:
    """How the question named the period, when the tool really used those dates."""
    try:
        first, stop = date.fromisoformat(str(start)), date.fromisoformat(str(end))
    except ValueError:
        return "the period"
    period = resolve(question, today)
    if period and period.start == first and period.end == stop:
        return period.label
    return f"the last {(stop - first).days} days" if stop == today else f"the {(stop - first).days} days"


def _mentioned_service(question: str, keys: Sequence[str]) -> str | None:
    lower = question.lower()
    for key in keys:
        name = key.lower()
        if name and name in lower:
            return key
    for alias, target in SERVICE_ALIASES.items():
        if re.search(rf"\b{re.escape(alias)}\b", lower):
            return next((k for k in keys if target in k.lower()), None) or alias.upper()
    return None


def _driver_text(driver: dict[str, Any], currency: str, called: str | None = None) -> str:
    change = _dec(driver.get("change")) or Decimal(0)
    sign = "+" if change >= 0 else "-"
    pct = _pct(driver.get("change_percent"))
    return (
        f"{called or driver.get('key')} ({sign}{money(abs(change), currency)}, "
        f"{money(driver.get('previous'), currency)} to {money(driver.get('current'), currency)}"
        + (f", {sign if pct and not pct.startswith('-') else ''}{pct}" if pct else "")
        + ")"
    )


def _change(question: str, data: dict[str, Any], today: date) -> list[str]:
    currency = str(data.get("currency") or "")
    change = _dec(data.get("change")) or Decimal(0)
    now_span = _span(data.get("current_start"), data.get("current_end"))
    before_span = _span(data.get("previous_start"), data.get("previous_end"))
    label = _label(question, today, data.get("current_start"), data.get("current_end"))
    increases = [d for d in data.get("increases") or [] if isinstance(d, dict)]
    decreases = [d for d in data.get("decreases") or [] if isinstance(d, dict)]
    drivers = increases + decreases
    called = dict(zip((id(d) for d in drivers), display_names(drivers), strict=True))
    service = _mentioned_service(question, [str(d.get("key")) for d in drivers])
    direction = "went up" if change > 0 else "went down" if change < 0 else "did not change"
    pct = _pct(data.get("change_percent"))
    if pct and change > 0:
        pct = f"+{pct}"
    total = (
        f"Total cost {direction}"
        + (f" by {money(abs(change), currency)}" + (f" ({pct})" if pct else "") if change else "")
        + f" for {label} ({now_span}): {money(data.get('current_total'), currency)} against "
        f"{money(data.get('previous_total'), currency)} for {before_span}."
    )
    if service is not None:
        found = next((d for d in drivers if d.get("key") == service), None)
        if found is None:
            return [
                f"{service} did not change between {before_span} and {now_span}, or has no cost in either "
                "period.",
                total,
            ]
        moved = _dec(found.get("change")) or Decimal(0)
        share = _pct(found.get("share_of_change_percent"))
        verb = "rose" if moved > 0 else "fell"
        if moved < 0 and _MOVE_UP.search(question.lower()):
            verb = "did not go up: it fell"
        first = (
            f"{service} {verb} by {money(abs(moved), currency)} for {label} ({now_span}): "
            f"{money(found.get('current'), currency)} against {money(found.get('previous'), currency)} for "
            f"{before_span}"
            + (
                f" ({'+' if moved > 0 else ''}{_pct(found.get('change_percent'))})"
                if found.get("change_percent") is not None
                else ""
            )
            + "."
        )
        overall = (
            f"Across all services cost {direction}"
            + (f" by {money(abs(change), currency)}" + (f" ({pct})" if pct else "") if change else "")
            + f", to {money(data.get('current_total'), currency)} from {money(data.get('previous_total'), currency)}."
        )
        sentences = [first, overall]
        if share and (moved > 0) == (change > 0) and (_dec(found.get("share_of_change_percent")) or 0) <= 100:
            sentences.append(f"That is {share} of the total change.")
        return sentences
    sentences = [total]
    if not drivers and not _dec(data.get("current_total")) and not _dec(data.get("previous_total")):
        return [f"I found no cost data for {now_span} or {before_span}; it may not have been collected yet."]
    main, other = (increases, decreases) if change >= 0 else (decreases, increases)
    if main:
        word = "increases" if change >= 0 else "decreases"
        sentences.append(
            f"The largest {word} were {_join([_driver_text(d, currency, called[id(d)]) for d in main[:SHOWN]])}."
        )
    if other:
        word = "decrease" if change >= 0 else "increase"
        sentences.append(
            f"Partly offsetting it, the largest {word} was {_driver_text(other[0], currency, called[id(other[0])])}."
        )
    new, gone = int(data.get("new_keys") or 0), int(data.get("gone_keys") or 0)
    news = [f"{_plural(n, 'service')} {verb}" for n, verb in ((new, "started"), (gone, "stopped")) if n]
    if news:
        sentences.append(f"{_join(news)} billing.")
    return sentences


def _savings(data: dict[str, Any]) -> list[str]:
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    total = int(data.get("total") or len(items))
    if not items:
        return ["There are no open recommendations right now, so I have no savings to suggest."]
    sentences = [
        f"There {'is' if total == 1 else 'are'} {_plural(total, 'open recommendation')} that together would save "
        f"{money(data.get('monthly_savings_total_usd'), 'USD')} a month."
    ]
    parts = []
    accounts = display_names(items, key="account", name="account_name")
    for item, called in zip(items[:SHOWN], accounts, strict=False):
        saving = item.get("estimated_savings_monthly_usd")
        account = (
            (f"account {called}" if called == item.get("account") else called) + ", "
            if item.get("account")
            else ""
        )
        parts.append(
            f"{item.get('title')} ({account}{item.get('risk_level')} risk): "
            + (f"{money(saving, 'USD')} a month" if saving is not None else "savings unknown")
        )
    sentences.append(f"The largest {'is' if len(parts) == 1 else 'are'} {'; '.join(parts)}.")
    sentences.append("Preview and apply them under Recommendations; every change waits for an approval.")
    return sentences


def _budget_line(item: dict[str, Any]) -> str:
    ev = item.get("evaluation") or {}
    currency = str(item.get("currency") or "")
    span = _span(ev.get("period_start"), ev.get("period_end"))
    if ev.get("status") == "exceeded":
        return (
            f"{item.get('name')} has spent {money(ev.get('current_spend'), currency)} of its "
            f"{money(item.get('amount'), currency)} ({_pct(ev.get('utilization_percent'))}) for {span}"
        )
    return (
        f"{item.get('name')} is forecast to reach {money(ev.get('forecasted_spend'), currency)} against "
        f"{money(item.get('amount'), currency)} ({_pct(ev.get('forecast_utilization_percent'))}) for {span}, "
        f"with {money(ev.get('current_spend'), currency)} spent so far"
    )


def _budgets(question: str, data: dict[str, Any]) -> list[str]:
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    if not items:
        return ["No budgets are set up yet, so none is at risk; create one under Budgets to track a limit."]
    rated = [i for i in items if isinstance(i.get("evaluation"), dict)]
    exceeded = [i for i in rated if i["evaluation"].get("status") == "exceeded"]
    at_risk = [i for i in rated if i["evaluation"].get("status") == "at_risk"]
    failed = [i for i in items if not isinstance(i.get("evaluation"), dict)]
    total = int(data.get("total") or len(items))
    asks_over = "over budget" in question.lower() or "overspen" in question.lower()
    if not exceeded and not at_risk:
        opener = "No. " if asks_over else ""
        sentences = [f"{opener}All {_plural(len(rated), 'budget')} with data are on track."]
        if rated:
            closest = max(rated, key=lambda i: _dec(i["evaluation"].get("forecast_utilization_percent")) or 0)
            sentences.append(f"The closest is {_budget_line(closest)}.")
    else:
        opener = ("Yes. " if exceeded else "Not yet, but some are at risk. ") if asks_over else ""
        sentences = [
            f"{opener}Of your {_plural(total, 'budget')}, {len(exceeded)} {'is' if len(exceeded) == 1 else 'are'} "
            f"over budget and {len(at_risk)} {'is' if len(at_risk) == 1 else 'are'} at risk of going over."
        ]
        for item in (exceeded + at_risk)[:SHOWN]:
            sentences.append(_budget_line(item) + ".")
    if failed:
        sentences.append(
            f"{_plural(len(failed), 'budget')} could not be evaluated ({failed[0].get('error')})."
        )
    return sentences


def compose(question: str, results: Sequence[tuple[str, Any]], today: date) -> str | None:
    """The answer over ``results`` (see module contract)."""
    intent = detect(question, today)
    if intent is None or not results or any(name not in _TOOLS[intent] for name, _ in results):
        return None
    sentences: list[str] = []
    for name, data in results:
        if not isinstance(data, dict):
            return None
        if "error" in data and len(data) <= 2:
            sentences.append(f"I could not get that from {name}: {data['error']}")
            continue
        if name == "cost_by_allocation":
            sentences += _allocation(question, data, today)
        elif name == "cost_by_dimension":
            sentences += _top_groups(question, data, today)
        elif name == "cost_top_spenders":
            sentences += _top_resources(question, data, today)
        elif name == "cost_compare_periods":
            sentences += _change(question, data, today)
        elif name == "recommendations_list":
            sentences += _savings(data)
        else:
            sentences += _budgets(question, data)
    return " ".join(sentences)
