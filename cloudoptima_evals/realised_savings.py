"""Realised-savings eval (#22): apply the product's recommendations to a live sandbox estate and score the bill's
measurement of each saving against the truth the sandbox recorded.

Contract (:func:`run_realised_savings`):

- The estate of each seed (``accounts`` × ``days``, ending at :data:`~cloudoptima_evals.datasets.END`) is
  written to a :class:`~cloudoptima.clouds.sandbox.state.SandboxEstateStore` under ``state_root`` and its
  recommendations come from the product's engine (:func:`generate_recommendations`, the eval datasets'
  inputs). Every recommendation whose actions are all billing changes (no tag / untag) is applied through
  the remediation path's translation (``PlannedAction`` → :func:`provider_request`) and
  ``SandboxProvider.execute_action`` at a pinned moment :data:`CHANGE_OFFSET` after the generated window (the
  live estate bills on). A refused action skips its recommendation (counted in ``refused``).
- Truth: the Σ of ``true_saving_monthly`` the sandbox journalled for the recommendation's actions
  (:mod:`cloudoptima.clouds.sandbox.true_saving`).
- Measurement: with the provider's clock moved past the after window, the account's daily costs of the
  windows are read through ``SandboxProvider.costs`` and passed, as cost lines (price key = usage type and
  unit, quantity, the month's days for a per-month unit), to the service's
  :func:`~cloudoptima.services.savings_measurement.measure_lines` (the same windows, netting, rounding and
  status rules as ``GET /v1/savings``); the bill reaches the after window's last day.
- Planted price change (:data:`PRICE_CUTS`): for the seeds named there, the bill the provider returns has
  every hourly line billed at ``factor`` of its price from ``change day + days`` on (a provider price cut
  after the change: the quantities stay). The truth is the saving at the prices of the change, so a
  measurement that counted the cut as a saving would miss it; ``price_effect_total`` sums what the
  measurement netted out.
- Scores: ``mae`` = mean |realised − true| (currency units, 2 places), ``mape_percent`` = mean
  |realised − true| / true × 100 over items whose truth is positive (2 places), ``estimate_mape_percent`` the
  same for the engine's estimate vs the truth (what the measurement is there to check),
  ``unnetted_mape_percent`` the same for the measurement with the price effect left in (what netting
  saves), counts of measured, unmeasured and refused items. :data:`FLOORS` are checked by :func:`check_floors` (``tests/evals``).
"""

from __future__ import annotations

import calendar
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from cloudoptima.analytics.recommendations import generate_recommendations
from cloudoptima.clouds.protocol import ActionKind, ActionRefusedError, DailyCost
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.recommendations import Recommendation
from cloudoptima.domain.remediation.plans import PlannedAction
from cloudoptima.domain.savings import MeasurementStatus
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.remediation.scope import provider_request
from cloudoptima.services.savings_measurement import WINDOW_DAYS, measure_lines
from cloudoptima.services.savings_netting import CostLine, is_monthly_unit
from cloudoptima_evals.datasets import END, EstateCase, load_case

CHANGE_OFFSET = timedelta(days=10, hours=13)
"""When the recommendations are applied, from the end of the generated window (mid-day: the change day is
skipped by the measurement)."""
SEEDS: tuple[int, ...] = (11, 2024)
PRICE_CUTS: dict[int, tuple[Decimal, int]] = {2024: (Decimal("0.8"), 3)}
"""Seed → (price factor, days after the change day): the planted price change of that seed's bill."""
ACCOUNTS, DAYS = 2, 30
FLOORS: dict[str, tuple[str, float]] = {
    "mape_percent": ("<", 0.5),
    "mae": ("<", 0.25),
    "measured": (">=", 20.0),
}
"""Measured on 2026-12-07 with the defaults: mape 0.00 %, mae 0.00, 28 measured (4 refused: the sandbox cannot
resize a database); the price cut of seed 2024 netted out (price effect −20.04 a month in all; left in, the
mape would be 1.02 %). Before month-normalising per-month prices the same estates measured mape 0.78 %, mae
0.33 (a disk bills 1/31 of its month a day in January: 1.82 % under its price); the floors were < 1.5 and
< 1.0 then."""
_NOT_BILLING = {ActionKind.TAG.value, ActionKind.UNTAG.value}
_CENT = Decimal("0.01")
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Item:
    """One applied recommendation: the engine's estimate, the sandbox's truth and the measured saving."""

    rule_id: str
    resource_ids: tuple[str, ...]
    estimated_monthly: Decimal
    true_monthly: Decimal
    realised_monthly: Decimal | None
    status: MeasurementStatus
    price_effect_monthly: Decimal = Decimal(0)


def cost_line(cost: DailyCost) -> CostLine:
    """A provider's daily cost as a measurement line: price key = usage type ``|`` unit, its quantity, and
    the days of its calendar month (the bill's period) when the unit is priced per month."""
    period = (
        calendar.monthrange(cost.day.year, cost.day.month)[1] if is_monthly_unit(cost.usage_unit) else None
    )
    return CostLine(
        day=cost.day,
        cost=cost.billed_cost if cost.effective_cost is None else cost.effective_cost,
        price_key=f"{cost.usage_type or ''}|{cost.usage_unit or ''}" if cost.usage_type else "",
        quantity=cost.usage_quantity,
        period_days=period,
    )


def _applicable(rec: Recommendation) -> bool:
    return bool(rec.actions) and all(a.type not in _NOT_BILLING for a in rec.actions)


def _apply(provider: SandboxProvider, rec: Recommendation) -> Decimal | None:
    """Execute the recommendation's actions; the journalled true saving (None when one was refused)."""
    total = Decimal(0)
    for index, action in enumerate(rec.actions):
        planned = PlannedAction(
            cloud_account_id=rec.account_id,
            resource_id=action.resource_id,
            action=action.type,
            region=rec.region,
            parameters=action.parameters,
            description=action.description,
        )
        key = f"eval-{rec.fingerprint[:16]}-{index}"
        try:
            provider.execute_action(provider_request(planned), key)
        except ActionRefusedError:
            return None
        entry = provider.store.view().entry(rec.account_id, key)
        assert entry is not None and entry.true_saving_monthly is not None
        total += entry.true_saving_monthly
    return total


def evaluate_seed(seed: int, state_dir: Path) -> tuple[list[Item], int]:
    """The applied and measured items of one seed's estate, and how many recommendations were refused."""
    data = load_case(EstateCase(seed=seed, shape=f"{ACCOUNTS}x{DAYS}d", accounts=ACCOUNTS, days=DAYS))
    SandboxEstateStore.create(state_dir, seed=seed, accounts=ACCOUNTS, days=DAYS, end=END)
    recs = generate_recommendations(data.resources, data.utilisation, SandboxPriceCatalog(), as_of=data.as_of)
    change = datetime(END.year, END.month, END.day, tzinfo=UTC) + CHANGE_OFFSET
    clock = [change]
    providers: dict[str, SandboxProvider] = {}
    applied: list[tuple[Recommendation, Decimal]] = []
    refused = 0
    for rec in sorted((r for r in recs if _applicable(r)), key=lambda r: r.fingerprint):
        provider = providers.setdefault(
            rec.account_id, SandboxProvider(state_dir, rec.account_id, clock=lambda: clock[0])
        )
        truth = _apply(provider, rec)
        if truth is None:
            refused += 1
        else:
            applied.append((rec, truth))
    change_day = change.date()
    after_end = change_day + (WINDOW_DAYS + 1) * _DAY
    clock[0] = datetime(after_end.year, after_end.month, after_end.day, tzinfo=UTC)
    cut = PRICE_CUTS.get(seed)
    lines: dict[str, list[CostLine]] = defaultdict(list)
    for account, provider in providers.items():
        for cost in provider.costs(change_day - WINDOW_DAYS * _DAY, after_end).items:
            if cost.resource_id is not None:
                line = cost_line(cost)
                if cut is not None and cost.usage_unit == "Hours" and cost.day >= change_day + cut[1] * _DAY:
                    line = CostLine(
                        line.day, line.cost * cut[0], line.price_key, line.quantity, line.period_days
                    )
                lines[f"{account}/{cost.resource_id}"].append(line)
    items = []
    for rec, truth in applied:
        result = measure_lines(
            [line for rid in rec.resource_ids for line in lines.get(f"{rec.account_id}/{rid}", [])],
            change_day=change_day,
            as_of=clock[0],
            billed_through=after_end - _DAY,
            estimated_monthly=rec.estimated_savings_monthly,
            currency="USD",
        )
        items.append(
            Item(
                rule_id=rec.rule_id,
                resource_ids=rec.resource_ids,
                estimated_monthly=rec.estimated_savings_monthly,
                true_monthly=truth,
                realised_monthly=result.realised_monthly,
                status=result.status,
                price_effect_monthly=result.price_effect_monthly or Decimal(0),
            )
        )
    return items, refused


def _mean(values: Sequence[Decimal]) -> float:
    if not values:
        return 0.0
    return float((sum(values, Decimal(0)) / len(values)).quantize(_CENT, rounding=ROUND_HALF_EVEN))


def score(items: Sequence[Item], refused: int) -> dict[str, Any]:
    """The eval's scores over ``items`` (see the module contract)."""
    measured = [i for i in items if i.status is MeasurementStatus.MEASURED and i.realised_monthly is not None]
    positive = [i for i in measured if i.true_monthly > 0]
    per_rule: dict[str, list[Decimal]] = defaultdict(list)
    for item in positive:
        assert item.realised_monthly is not None
        per_rule[item.rule_id].append(
            abs(item.realised_monthly - item.true_monthly) / item.true_monthly * 100
        )
    return {
        "measured": len(measured),
        "unmeasured": len(items) - len(measured),
        "refused": refused,
        "mae": _mean([abs((i.realised_monthly or Decimal(0)) - i.true_monthly) for i in measured]),
        "mape_percent": _mean([e for errors in per_rule.values() for e in errors]),
        "estimate_mape_percent": _mean(
            [abs(i.estimated_monthly - i.true_monthly) / i.true_monthly * 100 for i in positive]
        ),
        "true_total": float(sum((i.true_monthly for i in measured), Decimal(0))),
        "unnetted_mape_percent": _mean(
            [
                abs((i.realised_monthly or Decimal(0)) - i.price_effect_monthly - i.true_monthly)
                / i.true_monthly
                * 100
                for i in positive
            ]
        ),
        "price_effect_total": float(sum((i.price_effect_monthly for i in measured), Decimal(0))),
        "per_rule_mape_percent": {rule: _mean(errors) for rule, errors in sorted(per_rule.items())},
    }


def check_floors(results: dict[str, Any]) -> list[str]:
    """The floors that do not hold, as readable strings (empty when all hold)."""
    failures = []
    for name, (op, bound) in FLOORS.items():
        value = results[name]
        ok = value < bound if op == "<" else value >= bound
        if not ok:
            failures.append(f"realised_savings.{name} = {value} (floor {op} {bound})")
    return failures


def run_realised_savings(state_root: Path, seeds: Sequence[int] = SEEDS) -> dict[str, Any]:
    """The eval over ``seeds`` (each estate in ``state_root/seed-<n>``): scores, floors, failures, elapsed."""
    started = time.perf_counter()
    items: list[Item] = []
    refused = 0
    for seed in seeds:
        found, skipped = evaluate_seed(seed, state_root / f"seed-{seed}")
        items.extend(found)
        refused += skipped
    results = score(items, refused)
    results["floors"] = {name: f"{op} {bound}" for name, (op, bound) in FLOORS.items()}
    results["failures"] = check_floors(results)
    results["elapsed_s"] = round(time.perf_counter() - started, 2)
    return results
