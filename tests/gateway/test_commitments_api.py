"""``/v1/commitments``: utilisation and coverage over really ingested sample files equal the figures computed
here by hand from the same files (csv module + Decimal, nothing of the product's code) to the cent (#22)."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.services.ingestion import ingest_path
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org

FIXTURES = Path(__file__).parents[1] / "fixtures"
SPEC = FIXTURES / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"  # Used/Unused rows of one plan
SAMPLE = FIXTURES / "focus_official_sample" / "focus_1.0_sample_1000.csv"  # real AWS Savings Plan rows
AZURE = FIXTURES / "finops_toolkit" / "azure_ea_amortizedcost_small.csv"  # a reservation and a savings plan
CENT = Decimal("0.01")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [{k: ("" if v == "NULL" else v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _money(value: str) -> Decimal:
    return Decimal(value) if value else Decimal(0)


def _pct(part: Decimal, whole: Decimal) -> str | None:
    return None if whole == 0 else str((100 * part / whole).quantize(CENT, rounding=ROUND_HALF_UP))


def _cents(value: str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def hand_coverage(rows: list[dict[str, str]]) -> dict[str, tuple[Decimal, Decimal]]:
    """Per day: (committed-priced ListCost, eligible ListCost) of Usage rows that are not Unused commitment
    rows, in a provider/service category where some committed-priced row appears."""
    usage = [r for r in rows if r["ChargeCategory"] == "Usage" and r["CommitmentDiscountStatus"] != "Unused"]

    def committed(r: dict[str, str]) -> bool:
        return r["PricingCategory"] == "Committed" or r["CommitmentDiscountStatus"] == "Used"

    pairs = {(r["ProviderName"], r["ServiceCategory"]) for r in usage if committed(r)}
    days: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in usage:
        if (r["ProviderName"], r["ServiceCategory"]) in pairs:
            day = days[r["ChargePeriodStart"][:10]]
            day[1] += _money(r["ListCost"])
            if committed(r):
                day[0] += _money(r["ListCost"])
    return {d: (c, e) for d, (c, e) in days.items()}


def test_utilisation_coverage_and_inventory_equal_the_hand_figures(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    ingest_path(engine, SPEC, org.id)
    ingest_path(engine, SAMPLE, org.id)
    viewer = org.headers("viewer")

    # Utilisation of the spec's savings plan: Used vs Unused rows, by EffectiveCost and by quantity.
    spec = _rows(SPEC)
    used = [r for r in spec if r["ChargeCategory"] == "Usage" and r["CommitmentDiscountStatus"] == "Used"]
    unused = [r for r in spec if r["ChargeCategory"] == "Usage" and r["CommitmentDiscountStatus"] == "Unused"]
    used_cost = sum((_money(r["EffectiveCost"]) for r in used), Decimal(0))
    unused_cost = sum((_money(r["EffectiveCost"]) for r in unused), Decimal(0))
    used_qty = sum((_money(r["CommitmentDiscountQuantity"]) for r in used), Decimal(0))
    unused_qty = sum((_money(r["CommitmentDiscountQuantity"]) for r in unused), Decimal(0))
    plan = used[0]["CommitmentDiscountId"]
    answer = client.get(
        "/v1/commitments/utilisation",
        params={"start_date": "2023-01-01", "end_date": "2023-02-01", "commitment_id": plan},
        headers=viewer,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    [day] = body["days"]
    assert (day["day"], day["commitment_id"], day["currency"]) == ("2023-01-01", plan, "USD")
    assert (_cents(day["used_cost"]), _cents(day["unused_cost"])) == (used_cost, unused_cost)
    assert day["utilisation_percent"] == _pct(used_cost, used_cost + unused_cost) == "75.00"
    assert day["quantity_utilisation_percent"] == _pct(used_qty, used_qty + unused_qty)
    assert body["totals"][0]["utilisation_percent"] == "75.00"

    # The official sample's Savings Plan rows carry a zero EffectiveCost: no basis for utilisation.
    sample = _rows(SAMPLE)
    sample_plans = sorted({r["CommitmentDiscountId"] for r in sample if r["CommitmentDiscountId"]})
    sept = {"start_date": "2024-09-01", "end_date": "2024-10-01"}
    sample_util = client.get("/v1/commitments/utilisation", params=sept, headers=viewer).json()
    assert sorted({t["commitment_id"] for t in sample_util["totals"]}) == sample_plans
    assert {t["utilisation_percent"] for t in sample_util["totals"]} == {None}

    # Coverage per day and over the month, both files, to the cent.
    for path, period in ((SPEC, {"start_date": "2023-01-01", "end_date": "2023-01-02"}), (SAMPLE, sept)):
        hand = hand_coverage(_rows(path))
        got = client.get("/v1/commitments/coverage", params=period, headers=viewer).json()
        assert {d["day"] for d in got["days"]} == set(hand)
        for item in got["days"]:
            covered, eligible = hand[item["day"]]
            assert (_cents(item["covered_cost"]), _cents(item["eligible_cost"])) == (
                covered.quantize(CENT, rounding=ROUND_HALF_UP),
                eligible.quantize(CENT, rounding=ROUND_HALF_UP),
            ), item["day"]
            assert item["coverage_percent"] == _pct(covered, eligible), item["day"]
        covered_t = sum((c for c, _ in hand.values()), Decimal(0))
        eligible_t = sum((e for _, e in hand.values()), Decimal(0))
        [total] = got["totals"]
        assert _cents(total["eligible_cost"]) == eligible_t.quantize(CENT, rounding=ROUND_HALF_UP)
        assert total["coverage_percent"] == _pct(covered_t, eligible_t)
    spec_cov = client.get(
        "/v1/commitments/coverage",
        params={"start_date": "2023-01-01", "end_date": "2023-01-02"},
        headers=viewer,
    ).json()
    assert spec_cov["totals"][0]["coverage_percent"] == "9.09"  # 1.00 of 11.00 list cost
    assert spec_cov["eligible_services"] == ["ACMECORP/Compute"]

    # The commitments seen: the spec's plan with its purchase and amortised cost, the sample's two plans.
    listing = client.get("/v1/commitments", headers=viewer).json()
    by_id = {c["commitment_id"]: c for c in listing["commitments"]}
    assert sorted(by_id) == sorted([plan, *sample_plans])
    spec_plan = by_id[plan]
    purchase = sum((_money(r["BilledCost"]) for r in spec if r["ChargeCategory"] == "Purchase"), Decimal(0))
    assert (spec_plan["type"], spec_plan["category"], spec_plan["first_seen"]) == (
        "Savings Plan",
        "Spend",
        "2023-01-01",
    )
    assert _cents(spec_plan["purchase_billed_cost"]) == purchase
    assert _cents(spec_plan["committed_cost"]) == used_cost + unused_cost
    assert spec_plan["utilisation_percent"] == "75.00"
    narrowed = client.get("/v1/commitments", params=sept, headers=viewer).json()
    assert sorted(c["commitment_id"] for c in narrowed["commitments"]) == sample_plans

    # Azure amortised export: the benefit's usage rows are Used (ChargeType Usage), Unused ones would be
    # ChargeType UnusedReservation / UnusedSavingsPlan; the export carries no ListCost, so no coverage basis.
    ingest_path(engine, AZURE, org.id)
    azure = _rows(AZURE)
    month = {"start_date": "2023-09-01", "end_date": "2023-10-01"}
    azure_util = client.get("/v1/commitments/utilisation", params=month, headers=viewer).json()
    hand: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in azure:
        if r["benefitId"]:
            unused_row = r["ChargeType"] in ("UnusedReservation", "UnusedSavingsPlan")
            hand[r["benefitId"]][1 if unused_row else 0] += _money(r["Cost"])
    got_util = {t["commitment_id"]: t for t in azure_util["totals"]}
    assert set(got_util) == set(hand)
    for benefit, (used_b, unused_b) in hand.items():
        item = got_util[benefit]
        assert (Decimal(item["used_cost"]), Decimal(item["unused_cost"])) == (used_b, unused_b)
        assert item["utilisation_percent"] == _pct(used_b, used_b + unused_b) == "100.00"
    azure_list = client.get("/v1/commitments", params=month, headers=viewer).json()["commitments"]
    assert sorted((c["type"], c["category"]) for c in azure_list) == [
        ("Reservation", "Usage"),
        ("Savings Plan", "Spend"),
    ]
    azure_cov = client.get("/v1/commitments/coverage", params=month, headers=viewer).json()
    assert [t["coverage_percent"] for t in azure_cov["totals"]] == [None]

    # Another organisation sees none of it.
    assert client.get("/v1/commitments", headers=other.headers("viewer")).json()["commitments"] == []


def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    viewer = make_org(engine, gateway_settings).headers("viewer")
    cases = [
        ("/v1/commitments/utilisation", {"end_date": "2024-01-01"}, "start_date"),
        ("/v1/commitments/coverage", {"start_date": "2024-01-01"}, "end_date"),
        ("/v1/commitments/coverage", {"start_date": "2024-01-02", "end_date": "2024-01-01"}, "end_date"),
        ("/v1/commitments/coverage", {"start_date": "2022-01-01", "end_date": "2024-01-01"}, "end_date"),
        ("/v1/commitments", {"start_date": "2024-01-01"}, "end_date"),
        ("/v1/commitments", {"start_date": "yesterday", "end_date": "2024-01-01"}, "start_date"),
        (
            "/v1/commitments/utilisation",
            {"start_date": "2024-01-01", "end_date": "2024-01-02", "commitment_id": " "},
            "commitment_id",
        ),
    ]
    for path, params, field in cases:
        answer = client.get(path, params=params, headers=viewer)
        assert answer.status_code == 422, (path, params, answer.text)
        assert answer.json()["detail"][0]["loc"][-1] == field, (path, params, answer.text)
    assert client.get("/v1/commitments").status_code == 401
