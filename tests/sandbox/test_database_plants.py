"""The planted databases have the properties their manifest entries claim, and the rules find exactly them."""

from __future__ import annotations

from datetime import UTC, datetime, time

import numpy as np

from cloudoptima.analytics.recommendations import generate_recommendations
from cloudoptima.analytics.utilisation import summarise
from cloudoptima.clouds.sandbox import Estate, LookAlikeKind, WasteKind, catalog, utilisation_arrays
from cloudoptima.clouds.sandbox.utilisation import utilisation_series
from cloudoptima.domain.inventory import DatabaseAttributes, MetricName, ResourceKind
from cloudoptima.services.pricing import SandboxPriceCatalog


def _values(estate: Estate, resource_id: str, metric: MetricName) -> np.ndarray:  # type: ignore[type-arg]
    values = utilisation_arrays(estate, resource_id)[metric]
    return values[~np.isnan(values)]


def test_every_account_has_an_idle_and_an_oversized_database(estate: Estate) -> None:
    for kind in (WasteKind.IDLE_DATABASE, WasteKind.OVERSIZED_DATABASE):
        assert {w.account_id for w in estate.manifest.waste if w.kind is kind} == {
            a.account_id for a in estate.accounts
        }


def test_idle_databases_have_no_connection_and_save_their_class_price(estate: Estate) -> None:
    for item in (w for w in estate.manifest.waste if w.kind is WasteKind.IDLE_DATABASE):
        db = estate.resource(item.resource_ids[0])
        assert isinstance(db.attributes, DatabaseAttributes) and item.action == "stop"
        assert _values(estate, db.resource_id, MetricName.CONNECTIONS).max() == 0
        assert _values(estate, db.resource_id, MetricName.CPU_PERCENT).max() <= 5
        hourly = catalog.database_hourly(db.provider, db.attributes.instance_class, db.region)
        assert item.monthly_savings == hourly * 730


def test_oversized_databases_are_used_and_fit_the_smaller_class(estate: Estate) -> None:
    for item in (w for w in estate.manifest.waste if w.kind is WasteKind.OVERSIZED_DATABASE):
        db = estate.resource(item.resource_ids[0])
        assert isinstance(db.attributes, DatabaseAttributes)
        smaller = catalog.next_smaller_database(db.provider, db.attributes.instance_class)
        assert smaller is not None and item.action_params == {"target_type": smaller.name}
        assert _values(estate, db.resource_id, MetricName.CONNECTIONS).min() > 0
        cpu = _values(estate, db.resource_id, MetricName.CPU_PERCENT)
        memory = _values(estate, db.resource_id, MetricName.MEMORY_PERCENT)
        assert cpu.max() * db.attributes.vcpu / smaller.vcpu <= 36.0 + 1e-9
        assert memory.max() * float(db.attributes.memory_gib / smaller.memory_gib) <= 56.0 + 1e-9


def test_database_rules_flag_the_planted_databases_and_no_look_alike(estate: Estate) -> None:
    databases = [r for r in estate.resources if r.kind is ResourceKind.DATABASE]
    summaries = {d.resource_id: summarise(utilisation_series(estate, d.resource_id)) for d in databases}
    found = generate_recommendations(
        databases, summaries, SandboxPriceCatalog(), as_of=datetime.combine(estate.spec.end, time(), UTC)
    )
    flagged = {(r.rule_id, r.resource_ids[0]) for r in found}
    planted = {
        (
            {WasteKind.IDLE_DATABASE: "idle_database", WasteKind.OVERSIZED_DATABASE: "rightsize_database"}[
                w.kind
            ],
            w.resource_ids[0],
        )
        for w in estate.manifest.waste
        if w.kind in (WasteKind.IDLE_DATABASE, WasteKind.OVERSIZED_DATABASE)
    }
    assert flagged == planted
    protected = {
        rid
        for n in estate.manifest.should_not_flag
        if n.kind is LookAlikeKind.IGNORE_TAGGED_DATABASE
        for rid in n.resource_ids
    }
    assert len(protected) == len(estate.accounts)
    assert not protected & {rid for _, rid in flagged}
