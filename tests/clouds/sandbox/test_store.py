"""The state directory: idempotent creation, per-process cache that follows the journal, crash-safe journal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cloudoptima.clouds.protocol import ActionKind, ActionRequest
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from tests.clouds.sandbox.conftest import ACCOUNTS, CLOCK, DAYS, END, SEED, fixed, running_instance


def test_create_keeps_a_compatible_estate_and_refuses_another(state_dir: Path) -> None:
    inventory = state_dir / "estate" / "inventory.json"
    stamp = inventory.stat().st_mtime_ns
    store = SandboxEstateStore.create(state_dir, seed=SEED, accounts=ACCOUNTS, days=DAYS, end=END)
    assert inventory.stat().st_mtime_ns == stamp, "an existing compatible estate is kept"
    assert store.spec.accounts == ACCOUNTS
    with pytest.raises(ValueError, match="generated with"):
        SandboxEstateStore.create(state_dir, seed=SEED + 1, accounts=ACCOUNTS, days=DAYS, end=END)


def test_open_needs_a_complete_estate(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SandboxEstateStore.open(tmp_path)
    with pytest.raises(FileNotFoundError):
        SandboxProvider(tmp_path, "any")


def test_the_cache_follows_the_journal_and_a_recreated_estate(state_dir: Path, tmp_path: Path) -> None:
    store = SandboxEstateStore.open(state_dir)
    first = store.estate()
    assert store.estate() is first, "cached while the journal does not grow"
    account = first.accounts[0].account_id
    vm = running_instance(first, account)
    SandboxProvider(state_dir, account, clock=fixed(CLOCK)).execute_action(
        ActionRequest(kind=ActionKind.TAG, resource_id=vm.resource_id, parameters={"tags": {"k": "v"}}), "t-1"
    )
    grown = store.estate()
    assert grown is not first and grown.resource(vm.resource_id).tags["k"] == "v"
    # a fresh estate in the same directory (journal removed) is noticed
    (state_dir / "actions.jsonl").unlink()
    assert "k" not in store.estate().resource(vm.resource_id).tags
    other = tmp_path / "other"
    shutil.copytree(state_dir, other)
    assert SandboxEstateStore.open(other).estate() is not store.estate(), "cached per directory"


def test_a_torn_journal_tail_is_ignored_then_cut(state_dir: Path) -> None:
    store = SandboxEstateStore.open(state_dir)
    account = store.estate().accounts[0].account_id
    vm = running_instance(store.estate(), account)
    provider = SandboxProvider(state_dir, account, clock=fixed(CLOCK))
    tag = ActionRequest(kind=ActionKind.TAG, resource_id=vm.resource_id, parameters={"tags": {"a": "1"}})
    provider.execute_action(tag, "t-1")
    with (state_dir / "actions.jsonl").open("ab") as handle:
        handle.write(b'{"account_id": "' + account.encode() + b'", "idempotency_key": "torn"')
    assert len(store.journal()) == 1
    assert provider.inventory().items, "readers ignore the partial line"
    provider.execute_action(tag.model_copy(update={"parameters": {"tags": {"b": "2"}}}), "t-2")
    assert [e.idempotency_key for e in store.journal()] == ["t-1", "t-2"]
    tags = next(r for r in provider.inventory().items if r.resource_id == vm.resource_id).tags
    assert tags["a"] == "1" and tags["b"] == "2"
