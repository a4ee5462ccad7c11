"""The score of the realised-savings eval (``cloudoptima_evals/live_savings.py``): the ledger's answers against
the truth of the applied changes, and the floors a user would accept.

Contract: :func:`score` takes the applied changes (with their truth) and the ledgers read early (3 days after
the change) and at the end (12 days after); per applied item the absolute % error of ``realised_monthly``
against the truth, MAPE and MAE ($/month) over the measured ones, which items were not measured and why,
whether the early read was honest (nothing ``measured`` on 3 days of a 7-day window) and whether each
month's ``realised_monthly`` (and ``measured`` count) equals its items'. :func:`failures` lists the floors
(:data:`FLOORS`) that do not hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cloudoptima_evals.live_savings_estate import Applied

FLOORS = {"mape_percent": 5.0, "max_error_percent": 10.0}
"""What a user reporting realised savings to finance would accept: the ledger within 5 % of the truth on
average and no item off by more than 10 % (the estimates themselves are trusted to about that); every
applied item measured once 7 days of after-data exist; none measured before; month totals = their items."""


def _pct(value: Decimal) -> float:
    return float(round(value * 100, 2))


def score(applied: list[Applied], early: dict[str, Any], final: dict[str, Any]) -> dict[str, Any]:
    """Realised vs truth per applied item, MAPE, MAE, measured counts, honesty and month totals."""
    early_rows = {row["recommendation_id"]: row for row in early["items"]}
    rows = {row["recommendation_id"]: row for row in final["items"]}
    items: list[dict[str, Any]] = []
    errors: list[Decimal] = []
    absolute: list[Decimal] = []
    dishonest: list[str] = []
    for item in applied:
        row = rows.get(item.recommendation_id or "")
        measurement = row["measurement"] if row else {}
        status = measurement.get("status", "not completed")
        early_status = (
            (early_rows.get(item.recommendation_id or "") or {}).get("measurement", {}).get("status")
        )
        if early_status == "measured":  # 3 days after a change cannot fill a 7-day window
            dishonest.append(f"{item.label}: measured with 3 days of after-data")
        entry: dict[str, Any] = {
            "item": item.label,
            "action": item.action,
            "changed_at": item.at.isoformat(),
            "applied_at": row and row["applied_at"],
            "change_day": measurement.get("change_day"),
            "status": status,
            "early_status": early_status,
            "reason": measurement.get("reason"),
            "confidence": measurement.get("confidence"),
            "estimated_monthly": row and row["estimated_monthly"],
            "truth_monthly": str(item.truth_monthly),
            "realised_monthly": measurement.get("realised_monthly"),
            "before_daily": measurement.get("before_daily"),
            "after_daily": measurement.get("after_daily"),
        }
        if status == "measured" and measurement.get("realised_monthly") is not None:
            realised = Decimal(str(measurement["realised_monthly"]))
            gap = abs(realised - item.truth_monthly)
            errors.append(gap / item.truth_monthly)
            absolute.append(gap)
            entry["error_percent"] = _pct(gap / item.truth_monthly)
        items.append(entry)
    months_ok, month_checks = True, []
    for month in final["months"]:
        members = [
            Decimal(str(rows[r]["measurement"]["realised_monthly"]))
            for r in rows
            if (rows[r]["applied_at"] or "")[:7] == month["month"]
            and rows[r]["measurement"]["status"] == "measured"
        ]
        stated = Decimal(str(month["realised_monthly"].get("USD", "0")))
        month_checks.append(
            {"month": month["month"], "stated": str(stated), "sum_of_items": str(sum(members, Decimal(0)))}
        )
        months_ok = months_ok and stated == sum(members, Decimal(0)) and month["measured"] == len(members)
    measured = sum(1 for e in items if e["status"] == "measured")
    return {
        "applied": len(applied),
        "measured": measured,
        "not_measured": [
            f"{e['item']}: {e['status']} ({e['reason']})" for e in items if e["status"] != "measured"
        ],
        "mape_percent": _pct(sum(errors, Decimal(0)) / len(errors)) if errors else None,
        "mae_usd_month": str((sum(absolute, Decimal(0)) / len(absolute)).quantize(Decimal("0.01")))
        if absolute
        else None,
        "max_error_percent": _pct(max(errors)) if errors else None,
        "early_read_honest": not dishonest,
        "early_read_problems": dishonest,
        "months_equal_items": months_ok,
        "months": month_checks,
        "items": items,
    }


def failures(result: dict[str, Any]) -> list[str]:
    """The floors (:data:`FLOORS`) that do not hold."""
    problems = [f"not measured: {', '.join(result['not_measured'])}"] if result["not_measured"] else []
    for name, floor in FLOORS.items():
        if result[name] is None or result[name] > floor:
            problems.append(f"{name} {result[name]} > {floor}")
    if not result["early_read_honest"]:
        problems.append(f"early read: {'; '.join(result['early_read_problems'])}")
    if not result["months_equal_items"]:
        problems.append(f"month totals differ from their items: {result['months']}")
    return problems
