"""Sandbox reads: costs equal the FOCUS files, the estate keeps billing past its window, fault injection."""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError, ThrottledError
from cloudoptima.clouds.sandbox import Estate, read_cost_rows
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import MetricName, ResourceKind, ResourceState
from tests.clouds.sandbox.conftest import CLOCK, END, fixed, running_instance

_GB_MONTH = (ResourceKind.DISK, ResourceKind.SNAPSHOT, ResourceKind.BUCKET)


def test_costs_equal_the_focus_files_day_by_day_and_resource_by_resource(
    provider: SandboxProvider, state_dir: Path, estate: Estate, account_id: str
) -> None:
    """A collection carries the same detail as the FOCUS files: resource ids, names, usage types and tags."""
    files: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    file_tags: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    for row in read_cost_rows(SandboxEstateStore.open(state_dir).estate_dir):
        if row["SubAccountId"] == account_id:
            key = (date.fromisoformat(row["ChargePeriodStart"][:10]), row["ResourceId"], row["SkuMeter"])
            files[key] += Decimal(row["BilledCost"])
            file_tags[row["ResourceId"]] = json.loads(row["Tags"] or "{}")
            names[row["ResourceId"]] = row["ResourceName"]
    costs = provider.costs(estate.spec.start, estate.spec.end)
    assert costs.complete
    ours: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    for item in costs.items:
        assert item.account_id == account_id and item.provider == "aws" and item.usage_type
        assert item.resource_id is not None
        ours[(item.day, item.resource_id, item.usage_type)] += item.billed_cost
        assert item.tags == file_tags[item.resource_id] and item.resource_name == names[item.resource_id]
    assert ours == files
    assert any(item.tags for item in costs.items)
    keys = [(c.day, c.resource_id, c.usage_type) for c in costs.items]
    assert len(keys) == len(set(keys)), "one row per day x resource x usage type"


def test_days_after_the_window_bill_at_inventory_prices(provider: SandboxProvider) -> None:
    day = END + timedelta(days=4)  # 2026-01-05, a Monday: weekday-scheduled VMs bill too
    assert day.weekday() < 5 and day < CLOCK.date()
    expected = Decimal(0)
    for resource in provider.inventory().items:
        if resource.kind in _GB_MONTH:
            days = calendar.monthrange(day.year, day.month)[1]
            share = resource.monthly_cost / days
        else:
            share = resource.monthly_cost * 24 / 730
        expected += share.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    costs = provider.costs(day, day + timedelta(days=1))
    assert costs.items and all(c.day == day for c in costs.items)
    assert sum(c.billed_cost for c in costs.items) == expected > 0


def test_no_costs_after_the_clock_and_today_with_the_real_clock(state_dir: Path, account_id: str) -> None:
    pinned = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
    assert pinned.costs(CLOCK.date() + timedelta(days=1), CLOCK.date() + timedelta(days=30)).items == []
    assert {c.day for c in pinned.costs(CLOCK.date(), CLOCK.date() + timedelta(days=30)).items} == {
        CLOCK.date()
    }
    live = SandboxProvider(state_dir, account_id)
    today = datetime.now(UTC).date()
    assert {c.day for c in live.costs(today - timedelta(days=1), today + timedelta(days=1)).items} == {
        today - timedelta(days=1),
        today,
    }


def test_utilisation_continues_after_the_window_up_to_the_clock(
    provider: SandboxProvider, estate: Estate, account_id: str
) -> None:
    vm = running_instance(estate, account_id)
    start = END - timedelta(days=2)
    series = provider.utilisation([vm], start, CLOCK.date() + timedelta(days=2))
    cpu = next(s for s in series.items if s.metric is MetricName.CPU_PERCENT)
    assert cpu.start == datetime(start.year, start.month, start.day, tzinfo=UTC)
    assert len(cpu.values) == 24 * 13
    now_index = int((CLOCK - cpu.start).total_seconds() // 3600)
    assert all(v is not None for v in cpu.values[:now_index]), "live hours before the clock have samples"
    assert all(v is None for v in cpu.values[now_index:]), "no samples from the future"
    inside = provider.utilisation([vm], start, END)
    inside_cpu = next(s for s in inside.items if s.metric is MetricName.CPU_PERCENT)
    assert cpu.values[:48] == inside_cpu.values, "the generated window is unchanged by the continuation"
    again = provider.utilisation([vm], start, CLOCK.date() + timedelta(days=2))
    assert again.items == series.items, "deterministic"


def test_utilisation_of_a_foreign_resource_is_a_failure(provider: SandboxProvider, estate: Estate) -> None:
    foreign = estate.account_resources(estate.accounts[1].account_id)[0]
    result = provider.utilisation([foreign], estate.spec.start, estate.spec.end)
    assert result.items == []
    assert [f.scope for f in result.failures] == [f"monitoring/{foreign.resource_id}"]


def test_inventory_lists_only_live_resources_of_the_account(
    provider: SandboxProvider, estate: Estate, account_id: str
) -> None:
    items = provider.inventory().items
    assert {r.account_id for r in items} == {account_id}
    deleted = [r for r in estate.account_resources(account_id) if r.state is ResourceState.DELETED]
    assert deleted and not {r.resource_id for r in deleted} & {r.resource_id for r in items}


def test_injected_region_failure_is_partial(state_dir: Path, estate: Estate, account_id: str) -> None:
    down = estate.account(account_id).regions[0]
    provider = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK), fail_regions={down})
    inventory = provider.inventory()
    assert [f.scope for f in inventory.failures] == [f"inventory/{down}"]
    assert inventory.failures[0].retryable
    assert inventory.items and all(r.region != down for r in inventory.items)
    costs = provider.costs(estate.spec.start, estate.spec.end)
    assert [f.scope for f in costs.failures] == [f"costs/{down}"]
    assert costs.items and all(c.region != down for c in costs.items)
    healthy = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
    assert any(r.region == down for r in healthy.inventory().items)


def test_throttling_is_retried_with_backoff_then_raised(state_dir: Path, account_id: str) -> None:
    sleeps: list[float] = []
    retried = SandboxProvider(
        state_dir, account_id, clock=fixed(CLOCK), throttle_first_n=2, sleep=sleeps.append
    )
    assert retried.inventory().items
    assert sleeps == [0.05, 0.1]
    exhausted = SandboxProvider(
        state_dir, account_id, throttle_first_n=10, max_attempts=3, sleep=sleeps.append
    )
    with pytest.raises(ThrottledError, match="inventory") as caught:
        exhausted.inventory()
    assert caught.value.retryable


def test_denied_read_permission_and_unknown_account(state_dir: Path, account_id: str) -> None:
    blind = SandboxProvider(state_dir, account_id, denied_permissions={"billing.read"})
    with pytest.raises(CredentialsError) as caught:
        blind.costs(END - timedelta(days=2), END)
    assert caught.value.permission == "billing.read"
    verdict = blind.verify()
    assert verdict.status == "partial" and verdict.missing_permissions == ["billing.read"]
    assert blind.inventory().items, "other reads still work"
    stranger = SandboxProvider(state_dir, "999999999999")
    failed = stranger.verify()
    assert failed.status == "failed" and "999999999999" in (failed.detail or "")
    with pytest.raises(CredentialsError, match="999999999999"):
        stranger.inventory()


def test_forecast_is_left_to_our_forecaster(provider: SandboxProvider) -> None:
    assert isinstance(provider, CloudProviderClient)
    assert provider.forecast(END, END + timedelta(days=30)) is None
