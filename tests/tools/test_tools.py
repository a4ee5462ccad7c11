"""The tool catalog over real seeded organisations: numbers match the store, paging, cache, RBAC."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.models import CostDaily, PolicyExecution
from cloudoptima_tools import catalog
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import (
    HARD_TOKEN_LIMIT,
    ToolInputError,
    ToolNotFoundError,
    ToolPermissionError,
    run_tool,
)
from tests.tools.conftest import context_for
from tests.tools.seed import END, Estates

SPECS = catalog.by_name()


def call(ctx: ToolContext, name: str, **arguments: Any) -> Any:
    return run_tool(SPECS[name], ctx, arguments)


def test_catalog_declares_behaviour_and_budgets() -> None:
    specs = catalog.catalog()
    assert len({s.name for s in specs}) == len(specs)
    assert {s.domain for s in specs} == {"cost", "compute", "storage", "iam", "platform"}
    for spec in specs:
        assert spec.max_output_tokens <= HARD_TOKEN_LIMIT
        assert "Example:" in spec.description, spec.name
        assert not (spec.read_only and spec.destructive)
    changing = [s.name for s in specs if not s.read_only]
    assert changing == [
        "recommendation_decide",
        "recommendation_ticket",
        "request_remediation",
        "approve_remediation",
        "reject_remediation",
        "rollback_remediation",
        "generate_report",
        "notifications_mark_read",
    ]
    assert {s.name for s in catalog.catalog(read_only=True)} == {s.name for s in specs} - set(changing)


def test_cost_by_dimension_totals_equal_the_store_exactly(
    engine: Engine, ctx_a: ToolContext, estates: Estates
) -> None:
    start = END.replace(month=12, year=END.year - 1, day=1)
    out = call(ctx_a, "cost_by_dimension", start_date=start, end_date=END, group_by="service", limit=500)
    with engine.connect() as connection:
        expected = connection.execute(
            select(func.sum(CostDaily.billed_cost)).where(
                CostDaily.organization_id == estates.a.organization_id,
                CostDaily.usage_date >= start,
                CostDaily.usage_date < END,
            )
        ).scalar()
    assert out.total_billed_cost == expected
    assert sum((g.billed_cost for g in out.items), Decimal(0)) == expected
    assert [g.billed_cost for g in out.items] == sorted((g.billed_cost for g in out.items), reverse=True)
    aws = call(
        ctx_a, "cost_by_dimension", start_date=start, end_date=END, group_by="provider", provider="aws"
    )
    assert [g.key for g in aws.items] == ["aws"]


def test_cursor_pages_cover_every_group_once(ctx_a: ToolContext) -> None:
    whole = call(ctx_a, "cost_by_dimension", group_by="region", limit=500)
    seen: list[str] = []
    cursor = None
    while True:
        page = call(ctx_a, "cost_by_dimension", group_by="region", limit=2, cursor=cursor)
        seen += [g.key for g in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [g.key for g in whole.items]
    assert len(seen) == whole.total > 2
    first = call(ctx_a, "cost_by_dimension", group_by="region", limit=2)
    with pytest.raises(ToolInputError, match="different query"):
        call(ctx_a, "cost_by_dimension", group_by="service", limit=2, cursor=first.next_cursor)


def test_period_comparison_drivers_add_up_to_the_change(ctx_a: ToolContext) -> None:
    out = call(ctx_a, "cost_compare_periods", group_by="service", top_drivers=50)
    assert out.change == out.current_total - out.previous_total
    assert sum((d.change for d in out.increases + out.decreases), Decimal(0)) == out.change


def test_forecast_and_top_spenders(ctx_a: ToolContext) -> None:
    forecast = call(ctx_a, "cost_forecast", days_ahead=14)
    assert len(forecast.points) == 14
    assert forecast.total_lower <= forecast.total <= forecast.total_upper
    # A service's forecast is the same service the REST API forecasts (services.cost_forecast), and smaller.
    biggest = call(ctx_a, "cost_by_dimension", group_by="service", limit=1).items[0].key
    one = call(ctx_a, "cost_forecast", days_ahead=14, services=[biggest])
    assert 0 < one.total < forecast.total
    with pytest.raises(ToolInputError, match="no cost history in the selected scope"):
        call(ctx_a, "cost_forecast", days_ahead=14, services=["NoSuchService"])
    top = call(ctx_a, "cost_top_spenders", limit=10)
    costs = [s.billed_cost for s in top.items]
    assert costs == sorted(costs, reverse=True) and len(costs) == 10


def test_compute_and_storage_findings_are_the_recommendation_engines(
    ctx_a: ToolContext, estates: Estates
) -> None:
    """MCP and chat see exactly the findings the REST API lists: no second waste detector."""
    with ctx_a.read_session() as session:
        active = RecommendationService(session, ctx_a.organization_id, ctx_a.prices).list(limit=100_000)
    by_rule: dict[str, set[str]] = {}
    for row in active:
        by_rule.setdefault(str(row.rule_id), set()).add(str(row.id))
    expected = {
        "compute_idle_instances": by_rule.get("idle_vm", set()),
        "compute_rightsizing_options": by_rule.get("rightsize_vm", set()),
        "storage_unattached_disks": by_rule.get("unattached_disk", set())
        | by_rule.get("stopped_vm_disks", set()),
        "storage_snapshots": by_rule.get("orphaned_snapshot", set()),
    }
    assert expected["compute_idle_instances"], "the sandbox estate plants idle instances"
    for tool, ids in expected.items():
        found = call(ctx_a, tool, limit=500)
        assert {item.recommendation_id for item in found.items} == ids, tool
        assert found.monthly_savings_total_usd == sum(
            (i.monthly_savings_usd or Decimal(0) for i in found.items), Decimal(0)
        )
        savings = [i.monthly_savings_usd or Decimal(0) for i in found.items]
        assert savings == sorted(savings, reverse=True)
    idle = call(ctx_a, "compute_idle_instances", limit=500)
    assert all(i.actions == ["stop"] and i.profile and i.reason for i in idle.items)
    some = idle.items[0]
    scoped = call(ctx_a, "compute_idle_instances", provider=some.provider, account=some.account, limit=500)
    assert scoped.items and all(i.account == some.account for i in scoped.items)


def test_iam_tools_report_credentials_without_secrets(ctx_a: ToolContext) -> None:
    stale = call(ctx_a, "iam_stale_credentials", unused_days=30, max_age_days=365, limit=500)
    assert stale.items
    for row in stale.items:
        assert row.reasons
        if "never_used" in row.reasons:
            assert row.days_since_used is None
    privileged = call(ctx_a, "iam_privileged_grants", limit=500)
    assert privileged.items and all(g.privileged for p in privileged.items for g in p.grants)


def test_platform_tools(ctx_a: ToolContext, estates: Estates) -> None:
    anomalies = call(ctx_a, "anomalies_list", limit=500)
    assert anomalies.total == len(estates.a.anomaly_ids) > 0
    detail = call(ctx_a, "anomaly_root_cause", anomaly_id=estates.a.anomaly_ids[0])
    assert detail.root_cause and detail.root_causes
    recs = call(ctx_a, "recommendations_list", sort_by="savings", limit=500)
    savings = [r.estimated_savings_monthly_usd for r in recs.items]
    assert all(r.price_source for r in recs.items), "every saving says where it comes from"
    assert savings == sorted(savings, reverse=True)
    preview = call(ctx_a, "recommendation_impact_preview", recommendation_id=estates.a.recommendation_ids[0])
    assert preview.impact_preview.savings_monthly_usd is not None
    policies = call(ctx_a, "policies_list")
    assert [p.id for p in policies.items] == estates.a.policy_ids
    assert policies.items[0].risk_level is not None and policies.items[0].problem is None
    budgets = call(ctx_a, "budgets_status")
    assert budgets.items[0].evaluation is not None
    assert budgets.items[0].evaluation.alert_state == {}


def test_ids_of_another_organisation_are_not_found(ctx_a: ToolContext, estates: Estates) -> None:
    with pytest.raises(ToolNotFoundError):
        call(ctx_a, "anomaly_root_cause", anomaly_id=estates.b.anomaly_ids[0])
    with pytest.raises(ToolNotFoundError):
        call(ctx_a, "recommendation_impact_preview", recommendation_id=estates.b.recommendation_ids[0])


def test_cache_is_per_organisation_and_reported(engine: Engine, estates: Estates) -> None:
    ctx = context_for(engine, estates.a)
    first = call(ctx, "cost_by_dimension", group_by="service")
    second = call(ctx, "cost_by_dimension", group_by="service")
    assert (first.data.cached, second.data.cached) == (False, True)
    assert second.data.cache_state["hits"] == 1 and second.data.source == "local store"
    other = ToolContext(**{**ctx.__dict__, "organization_id": estates.b.organization_id})
    from_b = call(other, "cost_by_dimension", group_by="service")
    assert from_b.data.cached is False
    assert from_b.total_billed_cost != first.total_billed_cost


def test_rbac_and_two_step_remediation(engine: Engine, estates: Estates) -> None:
    viewer = context_for(engine, estates.a, role="viewer")
    assert call(viewer, "cost_by_dimension").items
    with pytest.raises(ToolPermissionError):
        call(viewer, "request_remediation", recommendation_id=estates.a.recommendation_ids[0], confirm=True)
    admin = context_for(engine, estates.a)

    def executions() -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(PolicyExecution)
                    .where(PolicyExecution.organization_id == estates.a.organization_id)
                ).scalar()
                or 0
            )

    before = executions()  # other tests of this session may have started (approved) remediations for org A
    preview = call(admin, "request_remediation", recommendation_id=estates.a.recommendation_ids[0])
    assert preview.state == "awaiting_confirmation" and preview.workflow_id is None
    assert executions() == before, "the first (unconfirmed) call starts nothing"


@pytest.mark.parametrize("group_by", ["service", "account", "tag:team", "tag:do-not-optimize"])
def test_cost_tools_and_the_rest_overview_give_the_same_numbers(ctx_a: ToolContext, group_by: str) -> None:
    """One source of truth: the MCP tool and GET /v1/costs/overview both read CostAnalytics (a tag key
    outside the rollup keys falls back to raw rows on both, instead of being all "(untagged)")."""
    from datetime import timedelta

    from cloudoptima.services.cost_analytics import CostAnalytics

    start, end = END - timedelta(days=30), END
    tool = call(ctx_a, "cost_by_dimension", group_by=group_by, start_date=start, end_date=end, limit=500)
    with ctx_a.read_session() as session:
        rest = CostAnalytics.for_organisation(session.connection(), ctx_a.organization_id).overview(
            start, end, group_by=group_by, breakdown_limit=500
        )
    assert {g.key: g.billed_cost for g in tool.items} == {b.dimension: b.cost for b in rest.breakdown}
    assert tool.total_billed_cost == rest.total_cost
    if group_by.startswith("tag:"):
        assert {g.key for g in tool.items} - {"(untagged)"}, (
            "tagged spend is found (raw rows for a non-rollup key)"
        )


def test_utilisation_anomalies_tool_reads_the_collected_history(ctx_a: ToolContext) -> None:
    out = call(ctx_a, "compute_utilisation_anomalies", days=30, limit=500)
    assert out.end - out.start == timedelta(days=30)
    assert all(out.start <= a.at < out.end and 0.5 <= a.score <= 1 for a in out.items)
    if out.items:
        one = out.items[0]
        scoped = call(ctx_a, "compute_utilisation_anomalies", days=30, resource_id=one.resource_id, limit=500)
        assert scoped.items and {a.resource_id for a in scoped.items} == {one.resource_id}
    with pytest.raises(ToolInputError):
        call(ctx_a, "compute_utilisation_anomalies", days=365)
