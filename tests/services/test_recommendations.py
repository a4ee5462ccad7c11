"""Recommendation runs over the stored inventory: dedupe, expiry, dismissal, filters and impact preview."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cloudoptima.analytics.recommendations import generate_recommendations
from cloudoptima.analytics.utilisation import summarise_values
from cloudoptima.clouds.sandbox import generate_estate
from cloudoptima.clouds.sandbox.utilisation import resource_arrays
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.observability.metrics import REGISTRY
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import Organization, Recommendation, ResourceDocument

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def loaded(db_session: Session) -> tuple[uuid.UUID, Any]:
    organisation = Organization(name="recs", subscription_tier="free", settings={})
    db_session.add(organisation)
    db_session.flush()
    estate = generate_estate(seed=5, accounts=1, days=60)
    live = [r for r in estate.resources if r.deleted_at is None]
    metrics = {}
    for resource in live:
        arrays = resource_arrays(estate, resource)
        metrics[resource.resource_id] = {
            str(m): summarise_values(v[~np.isnan(v)]) for m, v in arrays.items() if (~np.isnan(v)).any()
        }
    upsert_resources(db_session.connection(), organisation.id, None, live, metrics, AS_OF, complete=True)
    return organisation.id, (estate, live, metrics)


def _service(session: Session, org: uuid.UUID, now: datetime = AS_OF) -> RecommendationService:
    return RecommendationService(session, org, SandboxPriceCatalog(), now=lambda: now)


def _rows(session: Session, org: uuid.UUID) -> int:
    query = select(func.count()).select_from(Recommendation).where(Recommendation.organization_id == org)
    return int(session.scalar(query) or 0)


def test_stored_inventory_gives_what_the_engine_gives(
    db_session: Session, loaded: tuple[uuid.UUID, Any]
) -> None:
    org, (estate, live, metrics) = loaded
    created_before = (
        REGISTRY.get_sample_value("cloudoptima_recommendations_total", {"outcome": "created"}) or 0.0
    )
    report = _service(db_session, org).run(AS_OF)
    assert (
        REGISTRY.get_sample_value("cloudoptima_recommendations_total", {"outcome": "created"}) or 0.0
    ) - created_before == report.created  # (#23)
    direct = generate_recommendations(live, metrics, SandboxPriceCatalog(), as_of=AS_OF)
    assert report.skipped_resources == 0
    assert [r.fingerprint for r in report.recommendations] == [r.fingerprint for r in direct]
    assert report.created == len(direct) == _rows(db_session, org)
    planted = {frozenset(w.resource_ids) for w in estate.manifest.waste if w.kind != "missing_commitment"}
    assert planted <= {frozenset(r.resource_ids) for r in direct}


def test_second_run_dedupes_expires_and_keeps_dismissals(
    db_session: Session, loaded: tuple[uuid.UUID, Any]
) -> None:
    org, _ = loaded
    service = _service(db_session, org)
    first = service.run(AS_OF)
    again = service.run(AS_OF)
    assert (again.created, again.updated, again.expired) == (0, len(first.recommendations), 0)
    rows = {r.rule_id: r for r in service.list()}
    service.dismiss(rows["orphaned_snapshot"].id, "legal hold", permanent=True)
    service.dismiss(rows["unassociated_ip"].id, "DNS cut-over next week", permanent=False)
    idle = rows["idle_vm"]
    db_session.execute(
        update(ResourceDocument)
        .where(ResourceDocument.organization_id == org, ResourceDocument.resource_id == idle.resource_ids[0])
        .values(status="deleted")
    )
    third = service.run(AS_OF)
    assert third.expired == 1 and third.kept_dismissed == 2
    assert service.get(idle.id).status == RecommendationStatus.EXPIRED
    assert service.get(rows["orphaned_snapshot"].id).status == RecommendationStatus.DISMISSED
    later = _service(db_session, org, AS_OF + timedelta(days=31)).run(AS_OF)
    assert later.kept_dismissed == 1 and later.reactivated == 1
    assert service.get(rows["unassociated_ip"].id).status == RecommendationStatus.ACTIVE
    assert service.get(rows["orphaned_snapshot"].id).status == RecommendationStatus.DISMISSED
    assert _rows(db_session, org) == len(first.recommendations)


def test_list_filters_sorting_and_impact_preview(db_session: Session, loaded: tuple[uuid.UUID, Any]) -> None:
    org, _ = loaded
    service = _service(db_session, org)
    service.run(AS_OF)
    by_savings = service.list(sort_by="savings")
    savings = [r.estimated_savings_monthly for r in by_savings]
    assert savings == sorted(savings, reverse=True)
    storage = service.list(category="storage")
    assert storage and {r.category for r in storage} == {"storage"}
    databases = service.list(category="database")
    assert {(r.category, r.rule_id) for r in databases} == {
        ("database", "idle_database"),
        ("database", "rightsize_database"),
    }
    preview = service.impact_preview(by_savings[0].id)
    cost = preview["cost_impact"]
    assert float(cost["current_monthly"]) - float(cost["projected_monthly"]) == pytest.approx(
        float(cost["savings"])
    )
    assert preview["resource_changes"] and preview["rollback"]
    with pytest.raises(ValueError, match="sort_by"):
        service.list(sort_by="colour")
