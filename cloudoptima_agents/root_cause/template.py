"""The offline root-cause explanation: a fixed template over :class:`AnomalyEvidence`, labelled.

Contract: ``offline_explanation(evidence)`` states what changed, where, since when, how much, the likely
cause and what to do, in short sentences one per line (resources by the last segment of their ids: the full
ids stay in the stored drivers and evidence; the window's end date is its last day, inclusive), using only values copied from the evidence (amounts, shares, ids, ISO dates), so it
is faithful by construction (checked by :mod:`cloudoptima_agents.grounding` in tests and evals). Free text from the
estate (names) is never copied: only ids, SKUs, the computed labels and ``key=value`` tags made only of
letters, digits and ``_.:/@+-`` (at most 64 characters; others are left out).
"""

from __future__ import annotations

import re
from decimal import Decimal

from cloudoptima_agents.root_cause.evidence import AnomalyEvidence

OFFLINE_LABEL = "[offline narrator]"
_PLAIN_TAG = re.compile(r"^[A-Za-z0-9_.:/@+-]{1,64}=[A-Za-z0-9_.:/@+()-]{1,64}$")


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:,} {currency}"


def likely_cause(evidence: AnomalyEvidence) -> str:
    """The cause category the evidence points at (deterministic)."""
    new = [item for item in evidence.billed_items if item.new_in_window]
    launched = [c for c in evidence.inventory_changes if c.change == "launched"]
    if evidence.impact < 0:
        return "a drop in usage or stopped resources"
    if new or launched:
        return "new resources launched in this scope (a new fleet, a batch job or a forgotten test)"
    if evidence.billed_items:
        return "more usage of resources that were already running in this scope"
    return "a change in usage that the billing data does not tie to single resources"


def short_name(resource_id: str) -> str:
    """A resource id's last path segment (``.../virtualMachines/vm-1`` → ``vm-1``; plain ids unchanged)."""
    return resource_id.rstrip("/").rsplit("/", 1)[-1] or resource_id


def offline_explanation(evidence: AnomalyEvidence) -> str:
    """The labelled template explanation (see module contract)."""
    cur = evidence.currency
    window = (
        f"on {evidence.start_date}"
        if evidence.start_date == evidence.end_date
        else f"from {evidence.start_date} to {evidence.end_date} ({evidence.days} days)"
    )
    pct = f", {evidence.deviation_percent} %" if evidence.deviation_percent is not None else ""
    lines = [
        f"{OFFLINE_LABEL} What changed: {evidence.severity} anomaly in {evidence.scope_label} {window}. "
        f"Spend was {_amount(evidence.actual_spend, cur)} against {_amount(evidence.expected_spend, cur)} "
        f"expected, a change of {_amount(evidence.impact, cur)}{pct}."
    ]
    ranked = [c for c in evidence.contributors if c.contribution != 0 and c.label != "all other costs"]
    if ranked:
        parts = [
            f"{c.label} ({_amount(c.contribution, cur)}"
            + (f", {c.share_percent} % of the change)" if c.share_percent is not None else ")")
            for c in ranked[:3]
        ]
        lines.append("Where: " + "; ".join(parts) + ".")
    if evidence.billed_items:
        items = []
        for item in evidence.billed_items[:4]:
            sku = f" ({item.sku_id})" if item.sku_id else ""
            since = f", first billed {item.first_billed_day}" if item.first_billed_day else ""
            moved = (
                f"{_amount(item.change, cur)} change"
                + (f", {item.share_percent} % of it" if item.share_percent is not None else "")
                + f", {_amount(item.cost_in_window, cur)} in the window"
                if item.change is not None
                else _amount(item.cost_in_window, cur)
            )
            items.append(f"Behind it: {short_name(item.resource_id)}{sku}, {moved}{since}.")
        lines.extend(items)
    if any(_PLAIN_TAG.match(t.tag) for t in evidence.tag_changes):
        tags = [
            f"{t.tag} ({_amount(t.change, cur)}"
            + (f", {t.share_percent} % of the change)" if t.share_percent is not None else ")")
            for t in [t for t in evidence.tag_changes if _PLAIN_TAG.match(t.tag)][:3]
        ]
        lines.append("Tags whose cost changed: " + "; ".join(tags) + ".")
    if evidence.inventory_changes:
        changes = [
            f"{short_name(c.resource_id)} {c.change} on {c.day}" for c in evidence.inventory_changes[:4]
        ]
        lines.append("Inventory changes: " + "; ".join(changes) + ".")
    if evidence.audit_events:
        events = [
            f"{e.principal} {e.action} {e.resource_id or ''} on {e.day}".replace("  ", " ")
            for e in evidence.audit_events[:3]
        ]
        lines.append("Audit trail: " + "; ".join(events) + ".")
    lines.append(f"Likely cause: {likely_cause(evidence)}.")
    if evidence.similar:
        best = evidence.similar[0]
        lines.append(f"A similar past incident: {best.ref_id} ({best.summary}).")
    steps = "confirm with the owner of the top contributor whether the change was planned"
    if evidence.impact > 0:
        steps += "; if not, stop what is not needed and request a remediation (it waits for approval)"
    if evidence.runbooks:
        steps += "; see runbook " + ", ".join(f"{r.slug} ({r.title})" for r in evidence.runbooks[:2])
    lines.append(f"What to do: {steps}.")
    return "\n".join(lines)
