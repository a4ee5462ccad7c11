"""Database rules: idle (no connections) and oversized (CPU fits the next smaller class) managed databases,
and the look-alikes they must leave alone (prices from the sandbox catalogue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cloudoptima.analytics.recommendations import RuleSettings, generate_recommendations
from cloudoptima.analytics.recommendations.profiles import AWS_TRUSTED_ADVISOR_IDLE_RDS
from cloudoptima.domain.inventory import (
    CloudProvider,
    DatabaseAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)
from cloudoptima.domain.recommendations import Category, Recommendation, RiskLevel
from cloudoptima.services.pricing import SandboxPriceCatalog

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PRICES = SandboxPriceCatalog()
_SIZES = {
    "db.m5.xlarge": (4, "16"),
    "db.m5.large": (2, "8"),
    "db.t3.medium": (2, "4"),
    "db.x9.huge": (8, "64"),
}


def db(
    rid: str = "arn:aws:rds:us-east-1:111111111111:db:orders",
    cls: str = "db.m5.xlarge",
    *,
    tags: dict[str, str] | None = None,
    state: ResourceState = ResourceState.RUNNING,
    provider: CloudProvider = CloudProvider.AWS,
    region: str = "us-east-1",
    monthly_cost: str = "300.00",
) -> Resource:
    vcpu, memory = _SIZES.get(cls, (2, "8"))
    return Resource(
        resource_id=rid,
        name=rid.rsplit(":", 1)[-1].rsplit("/", 1)[-1],
        kind=ResourceKind.DATABASE,
        provider=provider,
        account_id="111111111111",
        region=region,
        service_name="Amazon Relational Database Service",
        sku_id="sku",
        attributes=DatabaseAttributes(
            engine="postgres", instance_class=cls, vcpu=vcpu, memory_gib=Decimal(memory), storage_gb=100
        ),
        tags=tags or {},
        monthly_cost=Decimal(monthly_cost),
        state=state,
        created_at=NOW - timedelta(days=300),
    )


def _summary(p95: float, mx: float, days: float) -> dict[str, float]:
    return {"avg": p95 / 2, "max": mx, "p95": p95, "p99": (p95 + mx) / 2, "samples": days * 24}


def util(
    connections: float,
    cpu: tuple[float, float],
    *,
    days: float = 30,
    memory: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """``connections`` = peak hourly connections; ``cpu`` / ``memory`` = (p95, max)."""
    out = {
        "connections": _summary(connections, connections, days),
        "cpu_percent": _summary(*cpu, days),
    }
    if memory is not None:
        out["memory_percent"] = _summary(*memory, days)
    return out


def run(resources: list[Resource], summaries: dict[str, Any], **kwargs: Any) -> list[Recommendation]:
    return generate_recommendations(resources, summaries, PRICES, as_of=NOW, **kwargs)


RID = "arn:aws:rds:us-east-1:111111111111:db:orders"
IDLE = util(0, (2.0, 6.0))
OVERSIZED = util(35, (15.0, 30.0))  # on db.m5.large: p95 30 % (≤ 40), peak 60 % (≤ 80)


def test_idle_database_is_stopped_saving_its_class_price() -> None:
    [rec] = run([db()], {RID: IDLE})
    assert (rec.rule_id, rec.category, rec.risk_level) == ("idle_database", Category.DATABASE, RiskLevel.LOW)
    assert [(a.type, a.resource_id) for a in rec.actions] == [("stop", RID)]
    assert rec.estimated_savings_monthly == Decimal("259.88")  # db.m5.xlarge 0.356 $/h × 730
    assert rec.evidence["price_source"].startswith("list price")
    assert any("final snapshot" in step for step in rec.manual_steps)
    assert "R-RDS-TA" in rec.description and rec.profile == "cloudoptima_conservative_idle_database"


def test_idle_database_of_an_unknown_class_keeps_the_inventory_price_or_says_unknown() -> None:
    [rec] = run([db(cls="db.x9.huge")], {RID: IDLE})
    assert rec.estimated_savings_monthly == Decimal("300.00")
    assert rec.evidence["price_source"].startswith("the resource's own")
    [unknown] = run([db(cls="db.x9.huge", monthly_cost="0")], {RID: IDLE})
    assert unknown.estimated_savings_monthly == 0 and "Price unknown" in unknown.description


def test_idle_database_saving_prefers_what_it_was_billed_and_a_resize_names_its_price_source() -> None:
    [rec] = run([db()], {RID: IDLE}, billed_monthly={RID: Decimal("312.40")})
    assert rec.estimated_savings_monthly == Decimal("312.40")  # instance + storage as billed
    assert rec.evidence["price_source"] == "billed cost (last 30 days)"
    [resize] = run([db()], {RID: OVERSIZED})
    assert resize.evidence["price_source"].startswith("list price")


def test_azure_sql_database_has_no_stop_only_manual_export_and_delete() -> None:
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/srv/databases/orders"
    [rec] = run([db(rid, "GP_Standard_D4ds_v4", provider=CloudProvider.AZURE, region="eastus")], {rid: IDLE})
    assert rec.actions == [] and "cannot be stopped" in rec.manual_steps[0]
    assert rec.estimated_savings_monthly == Decimal("259.88")


def test_a_single_connection_in_the_window_means_not_idle() -> None:
    # Used, if barely: not stopped, but its low CPU fits the smaller class.
    assert [r.rule_id for r in run([db()], {RID: util(1, (2.0, 6.0))})] == ["rightsize_database"]


def test_busy_database_without_connections_is_idle_only_for_trusted_advisor() -> None:
    busy = {RID: util(0, (35.0, 70.0))}  # replication or in-engine jobs keep the CPU busy
    assert run([db()], busy) == []
    flagged = run([db()], busy, settings=RuleSettings(idle_database=AWS_TRUSTED_ADVISOR_IDLE_RDS))
    assert [r.profile for r in flagged] == ["aws_trusted_advisor_idle_rds"]


@pytest.mark.parametrize("tags", [{"do-not-optimize": "true"}, {"CloudOptima:Ignore": "yes"}])
def test_tagged_databases_are_left_alone(tags: dict[str, str]) -> None:
    assert run([db(tags=tags)], {RID: IDLE}) == []
    assert run([db(tags=tags)], {RID: OVERSIZED}) == []


def test_recently_created_database_is_not_judged() -> None:
    assert run([db()], {RID: util(0, (2.0, 6.0), days=6)}) == []  # idle needs 7 days
    assert run([db()], {RID: util(35, (15.0, 30.0), days=13)}) == []  # resize needs 14 days
    assert run([db()], {}) == []


def test_stopped_database_is_not_judged() -> None:
    assert run([db(state=ResourceState.STOPPED)], {RID: IDLE}) == []


def test_used_database_with_low_cpu_moves_to_the_next_smaller_class() -> None:
    [rec] = run([db()], {RID: OVERSIZED})
    assert (rec.rule_id, rec.category, rec.risk_level) == (
        "rightsize_database",
        Category.DATABASE,
        RiskLevel.MEDIUM,
    )
    assert [(a.type, a.parameters) for a in rec.actions] == [("resize", {"size": "db.m5.large"})]
    assert rec.estimated_savings_monthly == Decimal("129.94")  # (0.356 − 0.178) × 730
    assert rec.evidence["memory_observed"] is False
    assert "memory was not observed" in rec.description
    assert any("memory use was not observed" in r for r in rec.impact_preview.risks)


def test_observed_memory_raises_confidence_and_can_forbid_the_resize() -> None:
    [fits] = run([db()], {RID: util(35, (15.0, 30.0), memory=(20.0, 25.0))})
    [blind] = run([db()], {RID: OVERSIZED})
    assert fits.evidence["memory_observed"] is True and fits.confidence > blind.confidence
    assert run([db()], {RID: util(35, (15.0, 30.0), memory=(40.0, 45.0))}) == []  # 90 % on half the memory


@pytest.mark.parametrize(
    ("cpu", "why"),
    [((25.0, 30.0), "p95 projects to 50 % > 40 %"), ((15.0, 45.0), "peak projects to 90 % > 80 %")],
)
def test_cpu_that_would_not_fit_the_smaller_class_blocks_the_resize(
    cpu: tuple[float, float], why: str
) -> None:
    assert run([db()], {RID: util(35, cpu)}) == [], why


def test_smallest_class_of_its_family_is_not_resized() -> None:
    rid = "arn:aws:rds:us-east-1:111111111111:db:small"
    assert run([db(rid, "db.m5.large")], {rid: OVERSIZED}) == []
    assert run([db(rid, "db.t3.medium")], {rid: OVERSIZED}) == []


def test_an_idle_database_is_stopped_not_resized() -> None:
    assert [r.rule_id for r in run([db()], {RID: util(0, (2.0, 6.0))})] == ["idle_database"]
