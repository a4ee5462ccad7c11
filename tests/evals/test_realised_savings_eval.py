"""The realised-savings eval: recommendations applied to a live sandbox estate, the bill's measurement scored
against the truth the sandbox journals with each action, and the floors that hold on it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import cloudoptima_evals.__main__ as evals_main
from cloudoptima.clouds.sandbox.actions import Action, ActionKind
from cloudoptima.clouds.sandbox.generator import generate_estate
from cloudoptima.clouds.sandbox.true_saving import billed_monthly, true_saving_monthly
from cloudoptima.domain.inventory import ResourceKind, ResourceState
from cloudoptima.domain.savings import MeasurementStatus
from cloudoptima_evals.realised_savings import FLOORS, Item, check_floors, run_realised_savings, score


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_realised_savings(tmp_path_factory.mktemp("realised-savings"))


def test_the_realised_savings_floors_hold(results: dict[str, Any]) -> None:
    assert results["failures"] == []
    assert results["mape_percent"] < 0.5  # measured 0.00 (2026-12-07; 0.78 before month-normalising)
    assert results["mae"] < 0.25  # measured 0.00 (0.33 before)
    assert results["measured"] >= 20 and results["unmeasured"] == 0  # measured 28
    # every rule meets its truth: disks and snapshots at their monthly price whatever January's length
    for rule in ("idle_vm", "unassociated_ip", "rightsize_vm", "unattached_disk", "orphaned_snapshot"):
        assert results["per_rule_mape_percent"][rule] == 0.0, rule
    # seed 2024's planted price cut (hours at 0.8 from the third day after) is netted, not counted
    assert results["price_effect_total"] < 0  # measured −20.04
    assert results["unnetted_mape_percent"] > 0.5  # measured 1.02: what counting the cut would have cost


def test_a_measurement_off_the_truth_breaks_the_floor() -> None:
    def item(realised: str, true: str) -> Item:
        return Item(
            rule_id="idle_vm", resource_ids=("i-1",), estimated_monthly=Decimal(true),
            true_monthly=Decimal(true), realised_monthly=Decimal(realised), status=MeasurementStatus.MEASURED,
        )  # fmt: skip

    scored = score([item("90", "100"), item("100", "100")] * 10, refused=0)
    assert (scored["mape_percent"], scored["mae"], scored["measured"]) == (5.0, 5.0, 20)
    assert check_floors(scored) == [
        f"realised_savings.mape_percent = 5.0 (floor {FLOORS['mape_percent'][0]} 0.5)",
        f"realised_savings.mae = 5.0 (floor {FLOORS['mae'][0]} 0.25)",
    ]


def test_the_true_saving_is_the_open_segments_monthly_bill_difference(tmp_path: Path) -> None:
    estate = generate_estate(seed=5, accounts=1, days=14)
    at = datetime(2026, 1, 3, 12, tzinfo=UTC)
    vm = next(
        r for r in estate.resources
        if r.kind is ResourceKind.COMPUTE_INSTANCE and r.state is ResourceState.RUNNING
    )  # fmt: skip
    segment = estate.segments[vm.resource_id][-1]
    after, saving = true_saving_monthly(
        estate, [Action(kind=ActionKind.STOP, resource_id=vm.resource_id, at=at)]
    )
    hours = Decimal("730.5") * (Decimal(5) / Decimal(7) if segment.schedule == "weekdays" else Decimal(1))
    assert saving == (segment.unit_price * segment.size * hours).quantize(Decimal("0.01")) and saving > 0
    assert after.resource(vm.resource_id).state is ResourceState.STOPPED
    assert billed_monthly(after.segments[vm.resource_id][-1]) == 0  # closed at the stop
    tagged = true_saving_monthly(
        estate, [Action(kind=ActionKind.TAG, resource_id=vm.resource_id, at=at, params={"team": "x"})]
    )
    assert tagged[1] == 0


def test_the_cli_runs_it_and_fails_on_a_broken_floor(
    monkeypatch: pytest.MonkeyPatch, results: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[list[int]] = []

    def fake(state: Path, seeds: list[int]) -> dict[str, Any]:
        seen.append(list(seeds))
        return (
            results if len(seen) == 1 else {**results, "failures": ["realised_savings.mae = 9 (floor < 1.0)"]}
        )

    monkeypatch.setattr(evals_main, "run_realised_savings", fake)
    assert evals_main.main(["--realised-savings", "--seeds", "11,2024"]) == 0
    assert evals_main.main(["--realised-savings", "--json"]) == 1
    assert seen[0] == [11, 2024]
    assert "realised savings: 28 measured" in capsys.readouterr().out.replace("\n", " ")
