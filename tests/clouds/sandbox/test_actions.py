"""Sandbox actions: durable across instances and processes, idempotent per key, concurrent-safe, reversible."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest

from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    CredentialsError,
)
from cloudoptima.clouds.sandbox import Estate
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import Resource, ResourceKind, ResourceState
from tests.clouds.sandbox.conftest import CLOCK, fixed, running_instance, unattached_disk

LATER = CLOCK + timedelta(days=5)
_CHILD = f"""
import json, sys
from datetime import datetime
from pathlib import Path
from cloudoptima.clouds.protocol import ActionRequest
from cloudoptima.clouds.sandbox.provider import SandboxProvider
state, account, rid, day, key, request = sys.argv[1:7]
now = datetime.fromisoformat("{LATER.isoformat()}")
provider = SandboxProvider(Path(state), account, clock=lambda: now)
if key:
    provider.execute_action(ActionRequest.model_validate_json(request), key)
item = next(r for r in provider.inventory().items if r.resource_id == rid)
d = datetime.fromisoformat(day).date()
total = sum(c.billed_cost for c in provider.costs(d, d.fromordinal(d.toordinal() + 1)).items)
print(json.dumps({{"state": item.state.value, "tags": item.tags, "cost": str(total)}}))
"""


def _child(
    state_dir: Path, account_id: str, resource_id: str, day: str, key: str = "", request: str = ""
) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(state_dir), account_id, resource_id, day, key, request],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    parsed: dict[str, Any] = json.loads(out.stdout)
    return parsed


def _state(provider: SandboxProvider, resource_id: str) -> Resource:
    return next(r for r in provider.inventory().items if r.resource_id == resource_id)


def _day_total(provider: SandboxProvider, day: str) -> str:
    d = date.fromisoformat(day)
    return str(sum(c.billed_cost for c in provider.costs(d, d + timedelta(days=1)).items))


def test_stop_is_durable_across_instances_and_processes(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    vm = running_instance(estate, account_id)
    day = (CLOCK.date() + timedelta(days=2)).isoformat()
    observer = SandboxProvider(state_dir, account_id, clock=fixed(LATER))
    before = observer.costs(CLOCK.date() + timedelta(days=2), CLOCK.date() + timedelta(days=3)).items
    before_total = sum(c.billed_cost for c in before)

    actor = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
    result = actor.execute_action(ActionRequest(kind=ActionKind.STOP, resource_id=vm.resource_id), "stop-1")
    assert result.status == "succeeded" and result.after["state"] == "stopped"

    fresh = SandboxProvider(state_dir, account_id, clock=fixed(LATER))
    assert _state(fresh, vm.resource_id).state is ResourceState.STOPPED
    assert _state(fresh, vm.resource_id).monthly_cost == 0
    after_total = sum(
        c.billed_cost
        for c in fresh.costs(CLOCK.date() + timedelta(days=2), CLOCK.date() + timedelta(days=3)).items
    )
    assert before_total - after_total == vm.monthly_cost * 24 / 730
    # the day before the stop is unchanged
    prior = CLOCK.date() - timedelta(days=1)
    assert _day_total(fresh, prior.isoformat()) == _day_total(observer, prior.isoformat())

    seen = _child(state_dir, account_id, vm.resource_id, day)
    assert seen["state"] == "stopped"
    assert seen["cost"] == str(after_total)


def test_a_repeated_key_acts_once_across_instances_and_processes(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    vm = running_instance(estate, account_id)
    tag = ActionRequest(
        kind=ActionKind.TAG, resource_id=vm.resource_id, parameters={"tags": {"owner": "finops"}}
    )
    first = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK)).execute_action(tag, "tag-1")
    second = SandboxProvider(state_dir, account_id, clock=fixed(LATER)).execute_action(tag, "tag-1")
    assert second == first
    seen = _child(
        state_dir, account_id, vm.resource_id, CLOCK.date().isoformat(), "tag-1", tag.model_dump_json()
    )
    assert seen["tags"]["owner"] == "finops"
    store = SandboxEstateStore.open(state_dir)
    assert [e.idempotency_key for e in store.journal()] == ["tag-1"]
    assert store.journal()[0].at == CLOCK

    other = tag.model_copy(update={"parameters": {"tags": {"owner": "someone-else"}}})
    with pytest.raises(ActionRefusedError, match="tag-1"):
        SandboxProvider(state_dir, account_id, clock=fixed(LATER)).execute_action(other, "tag-1")
    assert len(store.journal()) == 1


def test_concurrent_actions_from_threads_are_all_recorded(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    vm = running_instance(estate, account_id)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        provider = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
        try:
            for index in range(8):
                request = ActionRequest(
                    kind=ActionKind.TAG,
                    resource_id=vm.resource_id,
                    parameters={"tags": {f"{name}-{index}": "y"}},
                )
                provider.execute_action(request, f"{name}-{index}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    journal = SandboxEstateStore.open(state_dir).journal()
    assert len(journal) == 16 and len({e.idempotency_key for e in journal}) == 16
    lines = (state_dir / "actions.jsonl").read_text().splitlines()
    assert len(lines) == 16 and all(json.loads(line)["account_id"] == account_id for line in lines)
    tags = _state(SandboxProvider(state_dir, account_id, clock=fixed(CLOCK)), vm.resource_id).tags
    assert {f"{n}-{i}" for n in ("left", "right") for i in range(8)} <= set(tags)


def test_denied_permission_is_named_and_nothing_changes(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    vm = running_instance(estate, account_id)
    provider = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK), denied_permissions={"compute.stop"})
    stop = ActionRequest(kind=ActionKind.STOP, resource_id=vm.resource_id)
    verdict = provider.validate_action(stop)
    assert not verdict.ok
    assert verdict.missing_permissions == ["compute.stop"]
    assert any("compute.stop" in p for p in verdict.problems)
    with pytest.raises(CredentialsError) as caught:
        provider.execute_action(stop, "denied-1")
    assert caught.value.permission == "compute.stop"
    assert _state(provider, vm.resource_id).state is ResourceState.RUNNING
    assert SandboxEstateStore.open(state_dir).journal() == []
    tag = ActionRequest(kind=ActionKind.TAG, resource_id=vm.resource_id, parameters={"tags": {"a": "b"}})
    assert provider.validate_action(tag).ok, "other permissions are not denied"


def test_state_preconditions_name_the_resource(
    provider: SandboxProvider, estate: Estate, account_id: str
) -> None:
    vm = running_instance(estate, account_id)
    start = ActionRequest(kind=ActionKind.START, resource_id=vm.resource_id)
    verdict = provider.validate_action(start)
    assert not verdict.ok and any(vm.resource_id in p and "running" in p for p in verdict.problems)
    with pytest.raises(ActionRefusedError, match="start needs a stopped"):
        provider.execute_action(start, "start-1")
    disk = unattached_disk(estate, account_id)
    wrong_kind = ActionRequest(kind=ActionKind.STOP, resource_id=disk.resource_id)
    assert not provider.validate_action(wrong_kind).ok
    wrong_region = ActionRequest(kind=ActionKind.STOP, resource_id=vm.resource_id, region="mars-north-1")
    assert any("mars-north-1" in p for p in provider.validate_action(wrong_region).problems)
    foreign = estate.account_resources(estate.accounts[1].account_id)[0]
    refused = provider.validate_action(
        ActionRequest(kind=ActionKind.TAG, resource_id=foreign.resource_id, parameters={"tags": {"a": "b"}})
    )
    assert not refused.ok and foreign.resource_id in refused.problems[0]


def test_resize_bills_the_new_size_and_rolls_back(state_dir: Path, estate: Estate, account_id: str) -> None:
    from cloudoptima.clouds.sandbox import catalog
    from cloudoptima.domain.inventory import InstanceAttributes

    vm = running_instance(estate, account_id, shrinkable=True)
    assert isinstance(vm.attributes, InstanceAttributes)
    smaller = catalog.next_smaller(vm.provider, vm.attributes.instance_type)
    assert smaller is not None
    provider = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
    result = provider.execute_action(
        ActionRequest(kind=ActionKind.RESIZE, resource_id=vm.resource_id, parameters={"size": smaller.name}),
        "rs-1",
    )
    assert result.before["size"] == vm.attributes.instance_type and result.after["size"] == smaller.name
    resized = _state(provider, vm.resource_id)
    assert resized.monthly_cost < vm.monthly_cost and resized.state is ResourceState.RUNNING
    assert resized.launched_at == CLOCK, "a running instance is stopped, resized and started again"
    day = CLOCK.date() + timedelta(days=1)
    observer = SandboxProvider(state_dir, account_id, clock=fixed(LATER))
    rows = {c.usage_type: c for c in observer.costs(day, day + timedelta(days=1)).items}
    quantity = rows[f"BoxUsage:{smaller.name}"].usage_quantity
    assert quantity is not None and quantity >= 24, "the new size bills the whole next day"
    assert result.rollback.action is not None
    back = SandboxProvider(state_dir, account_id, clock=fixed(LATER))
    back.execute_action(result.rollback.action, "rs-1-rollback")
    assert _state(back, vm.resource_id).monthly_cost == vm.monthly_cost


def test_snapshot_and_delete_disk_records_the_snapshot_and_undo_restores(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    disk = unattached_disk(estate, account_id)
    provider = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
    request = ActionRequest(kind=ActionKind.SNAPSHOT_AND_DELETE_DISK, resource_id=disk.resource_id)
    verdict = provider.validate_action(request)
    assert verdict.ok and verdict.rollback is not None
    result = provider.execute_action(request, "sdd-1")
    snapshot_id = result.rollback.evidence["snapshot_id"]
    assert snapshot_id.startswith("snap-0") and result.after["snapshot_id"] == snapshot_id
    assert result.rollback.irreversible is None and result.rollback.action is not None
    assert result.rollback.action.parameters["snapshot_id"] == snapshot_id
    assert verdict.rollback.action is not None
    assert "snapshot_id" not in verdict.rollback.action.parameters, "a dry run cannot know the snapshot"
    assert disk.resource_id not in {r.resource_id for r in provider.inventory().items}

    later = SandboxProvider(state_dir, account_id, clock=fixed(LATER))
    undone = later.undo("sdd-1", "sdd-1-undo")
    assert undone.status == "undone"
    restored = _state(later, disk.resource_id)
    assert restored.state is ResourceState.AVAILABLE and restored.monthly_cost == disk.monthly_cost
    assert later.undo("sdd-1", "sdd-1-undo") == undone, "undo is idempotent per key"
    with pytest.raises(ActionRefusedError, match="already undone"):
        later.undo("sdd-1", "sdd-1-undo-again")
    observer = SandboxProvider(state_dir, account_id, clock=fixed(LATER + timedelta(days=3)))
    friday_before, monday_deleted, friday_after = (
        CLOCK.date() - timedelta(days=1),
        CLOCK.date() + timedelta(days=2),
        LATER.date() + timedelta(days=1),
    )
    assert friday_before.weekday() == friday_after.weekday() == 4 and monday_deleted.weekday() == 0
    disk_day = (disk.monthly_cost / 31).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    before = Decimal(_day_total(observer, friday_before.isoformat()))
    assert Decimal(_day_total(observer, monday_deleted.isoformat())) == before - disk_day
    assert Decimal(_day_total(observer, friday_after.isoformat())) == before


def test_restore_disk_rebills_from_the_restore_and_refuses_what_it_cannot_restore(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    disk = unattached_disk(estate, account_id)
    provider = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
    deleted = provider.execute_action(
        ActionRequest(kind=ActionKind.SNAPSHOT_AND_DELETE_DISK, resource_id=disk.resource_id), "rd-1"
    )
    restore = deleted.rollback.action
    assert restore is not None and restore.kind is ActionKind.RESTORE_DISK

    bare = restore.model_copy(update={"parameters": {}})
    verdict = provider.validate_action(bare)
    assert not verdict.ok
    for name in ("snapshot_id", "size_gb", "disk_type", "region"):
        assert any(f"parameters.{name}" in p for p in verdict.problems), verdict.problems
    ghost = restore.model_copy(update={"parameters": {**restore.parameters, "snapshot_id": "snap-0nope"}})
    with pytest.raises(ActionRefusedError, match="snap-0nope"):
        provider.execute_action(ghost, "rd-ghost")
    other = next(
        r
        for r in estate.account_resources(account_id)
        if r.kind is ResourceKind.DISK and r.resource_id != disk.resource_id
    )
    wrong_disk = restore.model_copy(update={"resource_id": other.resource_id})
    assert any(disk.resource_id in p for p in provider.validate_action(wrong_disk).problems)
    denied = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK), denied_permissions={"disk.create"})
    assert denied.validate_action(restore).missing_permissions == ["disk.create"]

    later = SandboxProvider(state_dir, account_id, clock=fixed(LATER))
    restored = later.execute_action(restore, "rd-1-back")
    back = _state(later, restored.after["disk_id"])
    assert back.state is ResourceState.AVAILABLE and back.created_at == LATER
    assert back.monthly_cost == disk.monthly_cost and back.tags == disk.tags
    assert restored.rollback.action is None and restored.rollback.irreversible is None
    again = later.validate_action(restore)
    assert not again.ok and any("still exists" in p for p in again.problems)
    observer = SandboxProvider(state_dir, account_id, clock=fixed(LATER + timedelta(days=3)))
    friday_before, monday_deleted, friday_after = (
        CLOCK.date() - timedelta(days=1),
        CLOCK.date() + timedelta(days=2),
        LATER.date() + timedelta(days=1),
    )
    disk_day = (disk.monthly_cost / 31).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    before = Decimal(_day_total(observer, friday_before.isoformat()))
    assert Decimal(_day_total(observer, monday_deleted.isoformat())) == before - disk_day
    assert Decimal(_day_total(observer, friday_after.isoformat())) == before, "the restored disk bills again"


def test_release_ip_is_irreversible_and_stops_its_billing(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    ip = next(
        r
        for r in estate.account_resources(account_id)
        if r.kind is ResourceKind.PUBLIC_IP and r.state is ResourceState.AVAILABLE
    )
    provider = SandboxProvider(state_dir, account_id, clock=fixed(CLOCK))
    result = provider.execute_action(
        ActionRequest(kind=ActionKind.RELEASE_IP, resource_id=ip.resource_id), "ip-1"
    )
    assert result.rollback.action is None and result.rollback.irreversible
    assert result.rollback.evidence["before"]["address"] == ip.attributes.address  # type: ignore[union-attr]
    assert ip.resource_id not in {r.resource_id for r in provider.inventory().items}
    again = provider.validate_action(ActionRequest(kind=ActionKind.RELEASE_IP, resource_id=ip.resource_id))
    assert not again.ok and "deleted" in again.problems[0]


_WORKER = """
import sys
from datetime import datetime
from pathlib import Path
from cloudoptima.clouds.protocol import ActionKind, ActionRequest
from cloudoptima.clouds.sandbox.provider import SandboxProvider
state, account, rid, *keys = sys.argv[1:]
provider = SandboxProvider(Path(state), account, clock=lambda: datetime.fromisoformat("2026-01-10T12:00:00+00:00"))
for key in keys:
    tags = {"tags": {key: "v"}}
    provider.execute_action(ActionRequest(kind=ActionKind.TAG, resource_id=rid, parameters=tags), key)
"""


def test_two_processes_racing_on_the_same_keys_act_once_per_key(
    state_dir: Path, estate: Estate, account_id: str
) -> None:
    vm = running_instance(estate, account_id)
    shared = [f"shared-{i}" for i in range(15)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(state_dir), account_id, vm.resource_id, *shared, *own]
        )
        for own in ([f"a-{i}" for i in range(5)], [f"b-{i}" for i in range(5)])
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    keys = [e.idempotency_key for e in SandboxEstateStore.open(state_dir).journal()]
    assert len(keys) == 25 and set(keys) == {*shared, *(f"{p}-{i}" for p in "ab" for i in range(5))}
