"""Narrative faithfulness: every number, resource id and date an explanation or narrative states must be in
its evidence.

Contract: ``run_narrative_eval(provider=None, seeds=..., shape=..., limit=...)`` generates each sandbox
estate, runs the product's engines on it (``detect_incidents`` on the daily costs, ``generate_recommendations``
on the live inventory, as :mod:`cloudoptima_evals.runner` does), keeps the incidents that overlap a planted anomaly
(same account, overlapping window) and the recommendations, builds the agents' evidence exactly as the
product does (contributions; resources and SKUs billed in the top cell during the window, with their first
billed day) and has the root-cause explainer and the narrator write. Each text is checked with
:func:`cloudoptima_agents.grounding.check`. ``provider``: ``None``/``"offline"`` uses the offline narrator;
``"configured"`` (or ``"anthropic"`` / ``"openai"``) uses the model the settings select (a key must be set).
Returns a JSON-serialisable dict: per-kind counts, faithful fractions, the sources used (model / offline /
offline_fallback), the failures with their unsupported claims, the floor (1.0 for offline) and elapsed time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel

from cloudoptima.analytics.recommendations import generate_recommendations, scopes_from_anomalies
from cloudoptima.clouds.sandbox import iter_cost_rows
from cloudoptima.clouds.sandbox.billing import FOCUS_COLUMNS
from cloudoptima.domain.analytics import CostAnomaly
from cloudoptima.services.anomalies import detect_incidents
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.settings import load_settings
from cloudoptima_agents import grounding
from cloudoptima_agents.models import chat_model, select_provider
from cloudoptima_agents.narrator import from_domain, narrate
from cloudoptima_agents.offline import OFFLINE_LABEL, OfflineChatModel
from cloudoptima_agents.root_cause import explain_anomaly
from cloudoptima_agents.root_cause.evidence import AnomalyEvidence, BilledItem, from_incident
from cloudoptima_evals.datasets import EstateCase, EstateData, load_case

DEFAULT_SEEDS: tuple[int, ...] = (11, 2024)
OFFLINE_FLOOR = 1.0
_COL = {name: i for i, name in enumerate(FOCUS_COLUMNS)}
_CELL = {"account": "account", "service": "service", "region": "region", "usage_type": "usage_type"}


def _model(provider: str | None) -> BaseChatModel:
    if provider in (None, "offline"):
        return OfflineChatModel()
    settings = load_settings()
    choice = select_provider(settings)
    if choice.provider == "offline":
        raise RuntimeError("no LLM is configured: set ANTHROPIC_API_KEY, OPENAI_API_KEY or LLM_BASE_URL")
    if provider not in ("configured", choice.provider) and not (
        provider == "openai" and choice.provider == "openai_compatible"
    ):
        raise RuntimeError(f"settings select {choice.provider}, not {provider}")
    return chat_model(settings)


def _resource_costs(data: EstateData) -> pd.DataFrame:
    keep = (
        "ChargePeriodStart",
        "BilledCost",
        "SubAccountId",
        "ServiceName",
        "RegionId",
        "ResourceId",
        "SkuId",
        "SkuMeter",
    )
    rows = [
        tuple(row[_COL[c]] for c in keep)
        for account in data.estate.accounts
        for row in iter_cost_rows(data.estate, account.account_id)
        if row[_COL["ResourceId"]]
    ]
    frame = pd.DataFrame(
        rows, columns=["start", "cost", "account", "service", "region", "resource_id", "sku", "usage_type"]
    )
    frame["day"] = pd.to_datetime(frame["start"].str[:10]).dt.date
    return frame.drop(columns=["start"])


def _billed_items(costs: pd.DataFrame, evidence: AnomalyEvidence) -> list[BilledItem]:
    """What ``KernelEvidence.billed_items`` reads from ``cost_data``, from the estate's FOCUS rows."""
    cell = evidence.top_cell()
    mask = (costs["day"] >= evidence.start_date) & (costs["day"] <= evidence.end_date)
    for dim, column in _CELL.items():
        if dim in cell and cell[dim] not in ("(none)", "(other)"):
            mask &= costs[column] == cell[dim]
    window = costs[mask]
    if window.empty:
        return []
    totals = window.assign(cost=window["cost"].map(Decimal)).groupby("resource_id")["cost"].sum()
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:6]
    first = costs[costs["resource_id"].isin([r for r, _ in top])].groupby("resource_id")["day"].min()
    skus = window.groupby("resource_id")["sku"].max()
    return [
        BilledItem(
            resource_id=str(rid),
            sku_id=str(skus[rid]) if skus[rid] else None,
            cost_in_window=Decimal(cost).quantize(Decimal("0.01")),
            first_billed_day=first[rid],
            new_in_window=first[rid] >= evidence.start_date,
        )
        for rid, cost in top
    ]


def _planted(incidents: Sequence[CostAnomaly], data: EstateData) -> list[CostAnomaly]:
    chosen = []
    for incident in incidents:
        accounts = {incident.scope.get("account")} | {
            c.dimensions.get("account") for c in incident.root_causes[:1]
        }
        for planted in data.estate.manifest.anomalies:
            overlaps = incident.start_date <= planted.end and planted.start <= incident.end_date + timedelta(
                days=1
            )
            if overlaps and planted.root_cause.account_id in accounts:
                chosen.append(incident)
                break
    return chosen


def _record(kind: str, ref: str, text: str, evidence: Any, source: str, out: dict[str, Any]) -> None:
    found = grounding.check(text, evidence, ignore=[OFFLINE_LABEL])
    bucket = out[kind]
    bucket["count"] += 1
    bucket["claims"] += grounding.total_claims(text.replace(OFFLINE_LABEL, " "))
    bucket["sources"][source] = bucket["sources"].get(source, 0) + 1
    if found.ok:
        bucket["faithful"] += 1
    else:
        bucket["failures"].append({"ref": ref, "unsupported": found.describe(), "text": text[:400]})


def run_narrative_eval(
    provider: str | None = None,
    *,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    shape: tuple[int, int] = (3, 120),
    limit: int = 40,
) -> dict[str, Any]:
    """Faithfulness of explanations and narratives (see module contract)."""
    started = time.perf_counter()
    model = _model(provider)
    results: dict[str, Any] = {
        kind: {"count": 0, "faithful": 0, "claims": 0, "sources": {}, "failures": []}
        for kind in ("root_cause", "narrative")
    }
    for seed in seeds:
        data = load_case(EstateCase(seed, f"{shape[0]}x{shape[1]}d", shape[0], shape[1]))
        incidents = detect_incidents(data.daily_costs)
        costs = _resource_costs(data)
        for incident in _planted(incidents, data)[:limit]:
            evidence = from_incident(incident)
            evidence = evidence.model_copy(update={"billed_items": _billed_items(costs, evidence)})
            explanation = explain_anomaly(evidence, model=model)
            _record(
                "root_cause",
                incident.anomaly_id,
                explanation.text,
                explanation.evidence,
                explanation.source,
                results,
            )
        recommendations = generate_recommendations(
            data.resources,
            data.utilisation,
            SandboxPriceCatalog(),
            as_of=data.as_of,
            anomaly_scopes=scopes_from_anomalies(incidents),
        )
        for rec in recommendations[:limit]:
            narratives = narrate(from_domain(rec), model=model)
            text = f"{narratives.engineer}\n{narratives.finance}"
            _record("narrative", rec.fingerprint, text, narratives.evidence, narratives.source, results)
    for bucket in results.values():
        bucket["faithfulness"] = round(bucket["faithful"] / bucket["count"], 4) if bucket["count"] else None
    offline = provider in (None, "offline")
    results["provider"] = "offline" if offline else select_provider(load_settings()).provider
    results["floor"] = OFFLINE_FLOOR if offline else None
    results["passed"] = all(
        b["faithfulness"] is not None and (not offline or b["faithfulness"] >= OFFLINE_FLOOR)
        for b in (results["root_cause"], results["narrative"])
    )
    results["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    return results
