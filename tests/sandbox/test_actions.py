"""apply_action: stop/resize/delete/tag change the estate and its regenerated costs; rollback restores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from cloudoptima.clouds.sandbox import (
    Action,
    ActionKind,
    Estate,
    WasteKind,
    apply_action,
    daily_costs,
    utilisation_arrays,
)
from cloudoptima.clouds.sandbox.billing import day_start
from cloudoptima.domain.inventory import MetricName, ResourceState

AT = datetime(2025, 12, 10, 10, 0, tzinfo=UTC)
LATER = datetime(2025, 12, 20, 0, 0, tzinfo=UTC)


def _target(estate: Estate, kind: WasteKind) -> str:
    return next(w for w in estate.manifest.waste if w.kind is kind).action_resource_ids[0]


def test_stop_reduces_cost_from_that_hour_and_rollback_restores_it(estate: Estate) -> None:
    vm_id = _target(estate, WasteKind.IDLE_VM)
    before = daily_costs(estate, vm_id)
    outcome = apply_action(estate, Action(kind=ActionKind.STOP, resource_id=vm_id, at=AT))
    stopped = outcome.estate
    assert stopped.resource(vm_id).state is ResourceState.STOPPED
    assert stopped.resource(vm_id).monthly_cost == 0
    assert estate.resource(vm_id).state is ResourceState.RUNNING, "the input estate is not mutated"
    after = daily_costs(stopped, vm_id)
    assert all(after[d] == before[d] for d in before if d < AT.date())
    assert after[AT.date()] == before[AT.date()] * 10 / 24
    assert not [d for d in after if d > AT.date()]
    cpu = utilisation_arrays(stopped, vm_id)[MetricName.CPU_PERCENT]
    origin = day_start(estate.spec.start)
    cut = int((AT - origin).total_seconds() // 3600)
    first = max(0, int((estate.resource(vm_id).created_at - origin).total_seconds() // 3600))
    assert np.isnan(cpu[cut:]).all() and not np.isnan(cpu[first:cut]).any()

    rolled = apply_action(stopped, outcome.rollback.model_copy(update={"at": LATER})).estate
    assert rolled.resource(vm_id) == estate.resource(vm_id)
    restored = daily_costs(rolled, vm_id)
    assert all(restored[d] == before[d] for d in before if d >= LATER.date())
    assert not [d for d in restored if AT.date() < d < LATER.date()]


def test_resize_bills_the_smaller_size_and_rollback_returns(estate: Estate) -> None:
    item = next(w for w in estate.manifest.waste if w.kind is WasteKind.OVERSIZED_VM)
    vm_id = item.action_resource_ids[0]
    outcome = apply_action(
        estate, Action(kind=ActionKind.RESIZE, resource_id=vm_id, at=AT, params=item.action_params)
    )
    resized = outcome.estate.resource(vm_id)
    assert resized.monthly_cost == estate.resource(vm_id).monthly_cost - item.monthly_savings
    day = AT.date() + timedelta(days=2)
    assert daily_costs(outcome.estate, vm_id)[day] == resized.monthly_cost * 24 / 730
    rolled = apply_action(outcome.estate, outcome.rollback.model_copy(update={"at": LATER})).estate
    assert rolled.resource(vm_id) == estate.resource(vm_id)
    assert daily_costs(rolled, vm_id)[date(2025, 12, 25)] == daily_costs(estate, vm_id)[date(2025, 12, 25)]


@pytest.mark.parametrize(
    "kind",
    [
        WasteKind.UNATTACHED_DISK,
        WasteKind.ORPHANED_SNAPSHOT,
        WasteKind.UNASSOCIATED_IP,
        WasteKind.IDLE_LOAD_BALANCER,
    ],
)
def test_deletions_stop_billing_and_are_reversible(estate: Estate, kind: WasteKind) -> None:
    item = next(w for w in estate.manifest.waste if w.kind is kind)
    action = Action(kind=ActionKind(item.action), resource_id=item.action_resource_ids[0], at=AT)
    outcome = apply_action(estate, action)
    gone = outcome.estate.resource(action.resource_id)
    assert gone.state is ResourceState.DELETED and gone.deleted_at == AT and gone.monthly_cost == 0
    assert max(daily_costs(outcome.estate, action.resource_id)) == AT.date()
    rolled = apply_action(outcome.estate, outcome.rollback.model_copy(update={"at": LATER})).estate
    assert rolled.resource(action.resource_id) == estate.resource(action.resource_id)
    assert date(2025, 12, 31) in daily_costs(rolled, action.resource_id)


def test_terminating_a_stopped_vm_saves_what_the_manifest_says(estate: Estate) -> None:
    item = next(w for w in estate.manifest.waste if w.kind is WasteKind.STOPPED_VM_WITH_DISKS)
    outcome = apply_action(
        estate, Action(kind=ActionKind.TERMINATE, resource_id=item.action_resource_ids[0], at=AT)
    )
    before = sum((estate.resource(r).monthly_cost for r in item.resource_ids), Decimal(0))
    after = sum((outcome.estate.resource(r).monthly_cost for r in item.resource_ids), Decimal(0))
    assert before - after == item.monthly_savings
    assert set(outcome.changed) == set(item.resource_ids)


def test_tags_change_without_touching_billing(estate: Estate) -> None:
    resource = estate.resources[0]
    tagged = apply_action(
        estate, Action(kind=ActionKind.TAG, resource_id=resource.resource_id, at=AT, params={"owner": "ops"})
    )
    assert tagged.estate.resource(resource.resource_id).tags["owner"] == "ops"
    assert tagged.estate.segments[resource.resource_id] == estate.segments[resource.resource_id]
    untagged = apply_action(
        tagged.estate,
        Action(kind=ActionKind.UNTAG, resource_id=resource.resource_id, at=AT, params={"team": ""}),
    )
    assert "team" not in untagged.estate.resource(resource.resource_id).tags
    rolled = apply_action(untagged.estate, untagged.rollback).estate
    assert rolled.resource(resource.resource_id).tags == {**resource.tags, "owner": "ops"}


def test_invalid_actions_are_refused(estate: Estate) -> None:
    stopped = _target(estate, WasteKind.STOPPED_VM_WITH_DISKS)
    with pytest.raises(ValueError, match="stop needs"):
        apply_action(estate, Action(kind=ActionKind.STOP, resource_id=stopped, at=AT))
    associated = next(
        r for r in estate.resources if r.kind.value == "public_ip" and r.state is ResourceState.IN_USE
    )
    with pytest.raises(ValueError, match="unassociated"):
        apply_action(estate, Action(kind=ActionKind.RELEASE_IP, resource_id=associated.resource_id, at=AT))
    with pytest.raises(ValueError, match="before the current billing period"):
        apply_action(
            estate,
            Action(
                kind=ActionKind.STOP,
                resource_id=_target(estate, WasteKind.IDLE_VM),
                at=AT - timedelta(days=900),
            ),
        )
