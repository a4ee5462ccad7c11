"""A CUR with RI and Savings Plan rows, uploaded through ``POST /v1/data/ingest``: ``/v1/commitments/utilisation``,
``/coverage`` and ``/v1/commitments`` (with an owned RI) equal the figures computed here by hand (#22).

The fixture's scenario (``tests/fixtures/aws_commitments/README.md``): an m5.large RI at 0.06/h effective
(0.03 amortised upfront + 0.03 recurring) over March 2024's 744 h, used 24 h a day on 1-29 March except
12 h on 2 March; a Compute Savings Plan of 2.40 a day from 30 March, used 2.40 then 1.20.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.domain.owned_commitments import OwnedCommitment, OwnedKind
from cloudoptima.services.owned_commitments import store
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org
from tests.ingest.gcp_export import write_gcp_commitment_export

CUR = Path(__file__).parents[1] / "fixtures" / "aws_commitments" / "cur_ri_sp_2024-03.csv"
RI = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/4b2a9f1e-0c3d-4e5f-8a7b-1c2d3e4f5a6b"
SP = "arn:aws:savingsplans::111122223333:savingsplan/7e8d9c0b-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
MARCH = {"start_date": "2024-03-01", "end_date": "2024-04-01"}
CENT = Decimal("0.01")


def _pct(part: Decimal, whole: Decimal) -> str:
    return str((100 * part / whole).quantize(CENT, rounding=ROUND_HALF_UP))


def test_cur_upload_gives_utilisation_and_coverage_equal_to_the_hand_figures(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    viewer = org.headers("viewer")
    uploaded = client.post(
        "/v1/data/ingest",
        params={"filename": CUR.name},
        content=CUR.read_bytes(),
        headers={**org.headers("finops_manager"), "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 200, uploaded.text
    # Σ lineItem/UnblendedCost of the file: 262.80 + 22.32 + 0.2496 + 1.23 + 2 x 2.40 + 3.40 - 3.40 + 1.70
    # - 1.70 + 0.68; the derived Unused rows add no billed cost.
    assert uploaded.json()["totals"][0]["billed_cost"] == "292.0796"

    # RI per day: committed = 744 h x 0.06 = 44.64 for March, 44.64 x 24 / 744 = 1.44 a day.
    hourly = Decimal("0.06")
    day_share = Decimal("44.64") * 24 / 744
    assert day_share == Decimal("1.44")
    ri = client.get("/v1/commitments/utilisation", params={**MARCH, "commitment_id": RI}, headers=viewer)
    assert ri.status_code == 200, ri.text
    days = {d["day"]: d for d in ri.json()["days"]}
    assert len(days) == 31
    hours = {d: 24 for d in range(1, 30)} | {2: 12, 30: 0, 31: 0}
    for d, h in hours.items():
        item = days[f"2024-03-{d:02d}"]
        used = h * hourly
        assert Decimal(item["used_cost"]) == used, d
        assert Decimal(item["unused_cost"]) == day_share - used, d
        assert item["utilisation_percent"] == _pct(used, day_share), d
        # normalised units: m5.large = 4 per hour, 96 a day
        assert Decimal(item["unused_quantity"] or 0) == 96 - 4 * h, d
    assert days["2024-03-02"]["utilisation_percent"] == "50.00"
    assert days["2024-03-30"]["utilisation_percent"] == "0.00"
    [ri_total] = ri.json()["totals"]
    used_ri = (28 * 24 + 12) * hourly  # 684 h = 41.04
    unused_ri = Decimal("1.80") + Decimal("1.80")  # RIFee: unused amortised upfront + unused recurring fee
    assert (Decimal(ri_total["used_cost"]), Decimal(ri_total["unused_cost"])) == (used_ri, unused_ri)
    assert ri_total["utilisation_percent"] == _pct(used_ri, used_ri + unused_ri) == "91.94"
    assert ri_total["quantity_utilisation_percent"] == _pct(Decimal(684 * 4), Decimal(744 * 4))

    # A period inside the month gets the spread of the month's RIFee too: 30-31 March, nothing used.
    tail = client.get(
        "/v1/commitments/utilisation",
        params={"start_date": "2024-03-30", "end_date": "2024-04-01", "commitment_id": RI},
        headers=viewer,
    ).json()
    assert [(d["day"], Decimal(d["unused_cost"])) for d in tail["days"]] == [
        ("2024-03-30", day_share),
        ("2024-03-31", day_share),
    ]
    assert tail["totals"][0]["utilisation_percent"] == "0.00"

    # Savings Plan per day: TotalCommitmentToDate 2.40; UsedCommitment 2.40 on 30 March, 1.20 on 31 March.
    sp = client.get(
        "/v1/commitments/utilisation", params={**MARCH, "commitment_id": SP}, headers=viewer
    ).json()
    assert [
        (d["day"], d["used_cost"], Decimal(d["unused_cost"]), d["utilisation_percent"]) for d in sp["days"]
    ] == [
        ("2024-03-30", "2.40", Decimal(0), "100.00"),
        ("2024-03-31", "1.20", Decimal("1.20"), "50.00"),
    ]
    assert sp["totals"][0]["utilisation_percent"] == _pct(Decimal("3.60"), Decimal("4.80")) == "75.00"

    # Coverage on ListCost (pricing/publicOnDemandCost) of Compute usage; S3 (Storage) is not eligible.
    coverage = client.get("/v1/commitments/coverage", params=MARCH, headers=viewer).json()
    assert coverage["eligible_services"] == ["AWS/Compute"]
    on_demand_ri = Decimal("0.096")
    hand: dict[str, tuple[Decimal, Decimal]] = {}
    for d in range(1, 30):
        covered = hours[d] * on_demand_ri
        hand[f"2024-03-{d:02d}"] = (covered, covered)
    hand["2024-03-01"] = (Decimal("2.304"), Decimal("2.304") + Decimal("0.2496"))  # + the on-demand t3.micro
    hand["2024-03-30"] = (Decimal("3.40"), Decimal("3.40") + Decimal("0.68"))  # 20 h covered, 4 h on demand
    hand["2024-03-31"] = (Decimal("1.70"), Decimal("1.70"))
    got = {d["day"]: d for d in coverage["days"]}
    assert set(got) == set(hand)
    for day, (covered, eligible) in hand.items():
        assert (Decimal(got[day]["covered_cost"]), Decimal(got[day]["eligible_cost"])) == (
            covered,
            eligible,
        ), day
        assert got[day]["coverage_percent"] == _pct(covered, eligible), day
    assert got["2024-03-01"]["coverage_percent"] == "90.23"
    assert got["2024-03-30"]["coverage_percent"] == "83.33"
    [total] = coverage["totals"]
    covered_t = sum((c for c, _ in hand.values()), Decimal(0))
    eligible_t = sum((e for _, e in hand.values()), Decimal(0))
    assert (Decimal(total["covered_cost"]), Decimal(total["eligible_cost"])) == (covered_t, eligible_t)
    assert total["coverage_percent"] == _pct(covered_t, eligible_t) == "98.70"

    # The owned RI (as the SDK inventory lists it) shows the bill's used and unused cost for March.
    with Session(engine) as session:
        owned = OwnedCommitment(
            provider="aws",
            account_id="111122223333",
            commitment_id="4b2a9f1e-0c3d-4e5f-8a7b-1c2d3e4f5a6b",
            arn=RI,
            kind=OwnedKind.RESERVED_INSTANCE,
            region="us-east-1",
            instance_type="m5.large",
            instance_family="m5",
            instance_count=1,
            term_seconds=31_536_000,
            start=datetime(2024, 3, 1, tzinfo=UTC),
            end=datetime(2025, 3, 1, tzinfo=UTC),
            state="active",
        )
        store(session, org.id, "aws", "111122223333", [owned], datetime(2024, 4, 1, tzinfo=UTC))
        session.commit()
    listing = client.get("/v1/commitments", params=MARCH, headers=viewer).json()
    by_id = {c["commitment_id"]: c for c in listing["commitments"]}
    assert Decimal(by_id[RI]["purchase_billed_cost"]) == Decimal("262.80") + Decimal("22.32")
    assert (Decimal(by_id[RI]["used_cost"]), Decimal(by_id[RI]["unused_cost"])) == (used_ri, unused_ri)
    [view] = listing["owned"]
    assert (Decimal(view["used_cost"]), Decimal(view["unused_cost"])) == (used_ri, unused_ri)
    assert view["utilisation_percent"] == "91.94"


def test_gcp_committed_use_discounts_are_reported_as_not_derivable(
    client: TestClient, engine: Engine, gateway_settings: Settings, tmp_path: Path
) -> None:
    org = make_org(engine, gateway_settings)
    path = write_gcp_commitment_export(tmp_path / "gcp.csv")
    uploaded = client.post(
        "/v1/data/ingest",
        params={"filename": path.name},
        content=path.read_bytes(),
        headers={**org.headers("finops_manager"), "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 200, uploaded.text
    answer = client.get("/v1/commitments/utilisation", params=MARCH, headers=org.headers("viewer")).json()
    assert answer["days"] == [] and answer["totals"] == []  # no number invented
    [gap] = answer["not_derivable"]
    assert (gap["provider"], gap["currency"]) == ("Google Cloud", "USD")
    assert gap["reason"].startswith("not derivable from this export")
    # the fee row's cost, and only the COMMITTED_USAGE_DISCOUNT credit (not the free-tier one)
    assert (Decimal(gap["commitment_fee_cost"]), Decimal(gap["discount_credit_cost"])) == (
        Decimal("10.00"),
        Decimal("-3.0"),
    )
    april = {"start_date": "2024-04-01", "end_date": "2024-05-01"}
    assert (
        client.get("/v1/commitments/utilisation", params=april, headers=org.headers("viewer")).json()[
            "not_derivable"
        ]
        == []
    )
    listing = client.get("/v1/commitments", params=MARCH, headers=org.headers("viewer")).json()
    assert listing["commitments"] == [] and [g["currency"] for g in listing["not_derivable"]] == ["USD"]
