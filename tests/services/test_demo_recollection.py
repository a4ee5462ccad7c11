"""The demo after its scheduled collections: a sandbox estate loaded as ``cloudoptima up`` loads it, then
every account collected twice by the code the scheduled ``CollectAll`` runs (``collect_account``), must
look the same: cost by tag, top resources, recommendations and utilisation history.

(Before: the first collection replaced the last 30 days of rows with resource ids and tags by rows summed
per service, region and usage type, and the 120-day utilisation summaries with 7-day ones.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, text

from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Organization
from cloudoptima.storage.tenancy import tenant_session

END = date(2026, 11, 1)  # the estate's days end (exclusive) here: the demo generates up to today
START = END - timedelta(days=60)
AS_OF = datetime(2026, 10, 31, 18, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[uuid.UUID, dict[str, uuid.UUID], ProviderRegistry]]:
    key = Fernet.generate_key().decode()
    estate = tmp_path_factory.mktemp("demo-estate")
    generate_to(estate, seed=42, accounts=2, days=60, end=END)
    with session_factory(engine)() as session:
        org = Organization(name=f"demo-{uuid.uuid4().hex[:6]}", subscription_tier="enterprise", settings={})
        session.add(org)
        session.commit()
        org_id = org.id
    report = load_sandbox(engine, CredentialCipher(key), org_id, Path(estate), now=lambda: AS_OF)
    yield org_id, report.accounts, ProviderRegistry(CredentialCipher(key))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM organizations WHERE id = :org"), {"org": org_id})


def _picture(engine: Engine, org: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as connection:
        analytics = CostAnalytics(connection, org)
        by_team = analytics.overview(START, END, group_by="tag:team", granularity="monthly")
        by_service = analytics.by_service(END - timedelta(days=1))
        history = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT resource_id) FROM utilisation_daily WHERE organization_id = :org"
            ),
            {"org": org},
        ).one()
    with tenant_session(session_factory(engine), org) as session:
        recs = RecommendationService(session, org, SandboxPriceCatalog(), now=lambda: AS_OF).run(as_of=AS_OF)
        _resources, metrics, _skipped = RecommendationService(session, org, SandboxPriceCatalog()).inventory()
    return {
        "by_team": {item.dimension: item.cost for item in by_team.breakdown},
        "top_resources": {
            (s.service_name, s.provider): [r.resource_id for r in s.top_resources]
            for s in by_service.services
        },
        "recommendations": sorted((r.rule_id, r.resource_ids) for r in recs.recommendations),
        "history_rows": history[0],
        "history_resources": history[1],
        "cpu_samples": {rid: m["cpu_percent"]["samples"] for rid, m in metrics.items() if "cpu_percent" in m},
    }


def test_two_scheduled_collections_keep_what_the_demo_showed(
    engine: Engine, demo: tuple[uuid.UUID, dict[str, uuid.UUID], ProviderRegistry]
) -> None:
    org, accounts, providers = demo
    before = _picture(engine, org)
    assert set(before["by_team"]) - {"(untagged)"}, "the demo's costs carry team tags"
    assert any(before["top_resources"].values()) and before["recommendations"] and before["history_rows"]

    service = CollectionService(engine, providers.for_account, now=lambda: AS_OF)
    for _run in range(2):
        for account in accounts.values():
            state = service.collect_account(
                AccountRef(org, account), initial_days=30, restate_days=3, today=AS_OF.date()
            )
            assert not state.pending and state.finish is not None

    after = _picture(engine, org)
    assert after["by_team"] == before["by_team"]  # to the cent: the same charges, per resource, with tags
    assert after["top_resources"] == before["top_resources"]
    assert after["recommendations"] == before["recommendations"]
    assert after["history_resources"] == before["history_resources"]
    assert after["history_rows"] >= before["history_rows"]  # appended, never cut back to a short window
    shrunk = {rid: n for rid, n in after["cpu_samples"].items() if n < before["cpu_samples"].get(rid, 0)}
    assert shrunk == {}
