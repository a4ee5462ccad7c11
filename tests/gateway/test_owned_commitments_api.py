"""Owned commitments (#22): AWS RIs and Savings Plans read through boto3 from a strict local fake of the two
APIs, stored per account, listed by ``GET /v1/commitments`` joined with the bill's figures (computed here by
hand from the ingested sample), and subtracted from the purchase recommendations."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.clouds.aws.commitments import read_owned, savings_plans
from cloudoptima.clouds.aws.provider import AwsProvider
from cloudoptima.clouds.aws.session import AwsSession
from cloudoptima.domain.owned_commitments import OwnedCommitment, OwnedKind
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.owned_commitments import collect_owned_commitments
from cloudoptima.services.collection.results import AccountRef
from cloudoptima.services.event_notices import notify_commitments_expiring
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.services.owned_commitments import owned_instance_units, owned_plan_hourly, store
from cloudoptima.settings import Settings
from cloudoptima.storage.models import Notification
from tests.analytics.recommendations.test_rules import metrics, run, vm
from tests.clouds.aws.fake_commitments import FakeCommitmentApis
from tests.gateway.conftest import make_org

SAMPLE = Path(__file__).parents[1] / "fixtures" / "focus_official_sample" / "focus_1.0_sample_1000.csv"
ACCOUNT = "365499461711"
PLAN = "37985e61-4fcb-4023-9dd7-e524c80342a2"
PLAN_ARN = f"arn:aws:savingsplans::{ACCOUNT}:savingsplan/{PLAN}"
NOW = datetime.now(UTC).replace(microsecond=0)
KEYS = {"access_key_id": "AKIAEXAMPLEKEY000001", "secret_access_key": "test-secret-not-real"}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _plan(plan_id: str, end: datetime, family: str | None = None, state: str = "active") -> dict[str, object]:
    return {
        "savingsPlanId": plan_id,
        "savingsPlanArn": f"arn:aws:savingsplans::{ACCOUNT}:savingsplan/{plan_id}",
        "start": _iso(end - timedelta(days=365)),
        "end": _iso(end),
        "state": state,
        "region": "us-east-1" if family else "",
        "ec2InstanceFamily": family or "",
        "savingsPlanType": "EC2Instance" if family else "Compute",
        "paymentOption": "No Upfront",
        "currency": "USD",
        "commitment": "1.250",
        "upfrontPaymentAmount": "0",
        "recurringPaymentAmount": "1.250",
        "termDurationInSeconds": 31536000,
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCommitmentApis]:
    soon = NOW + timedelta(days=20, hours=12)
    year = NOW - timedelta(days=345, hours=12)
    reserved = {
        "us-east-1": [
            {
                "id": "ri-east-m5",
                "type": "m5.xlarge",
                "start": _iso(year),
                "end": _iso(soon),
                "duration": 31536000,
                "fixed": "0.0",
                "hourly": ["0.0610", "0.0005"],
                "usage_price": "0.0",
                "count": 2,
                "state": "active",
                "offering": "No Upfront",
            }
        ],
        "us-west-2": [
            {
                "id": "ri-west-old",
                "type": "c5.large",
                "zone": "us-west-2b",
                "start": _iso(year - timedelta(days=400)),
                "end": _iso(year - timedelta(days=35)),
                "duration": 31536000,
                "fixed": "512.00",
                "hourly": [],
                "count": 3,
                "state": "retired",
                "offering": "All Upfront",
            }
        ],
    }
    plans = [
        _plan(PLAN, NOW + timedelta(days=200)),
        _plan("sp-ec2-family", NOW + timedelta(days=60), family="r6g"),
        _plan("sp-queued", NOW + timedelta(days=400), state="queued"),
    ]
    served = FakeCommitmentApis(reserved, plans)
    yield served
    served.close()


def test_inventory_is_listed_with_the_bill_and_subtracted_from_purchases(
    client: TestClient, engine: Engine, gateway_settings: Settings, fake: FakeCommitmentApis
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    ingest_path(engine, SAMPLE, org.id)
    aws = AwsSession(KEYS, endpoint_url=fake.endpoint)
    with Session(engine) as session:
        # Savings Plans read 2 per page: the fake hands out and checks the nextToken.
        assert [p.commitment_id for p in savings_plans(aws.client("savingsplans"), ACCOUNT, page_size=2)] == [
            PLAN,
            "sp-ec2-family",
            "sp-queued",
        ]
        read = read_owned(aws, ACCOUNT, ["us-west-2", "us-east-1", "us-east-1"])
        assert store(session, org.id, "aws", ACCOUNT, read, NOW) == 5
        session.commit()
    assert {c for c in fake.calls if c[0] == "ec2"} == {
        ("ec2", "us-east-1", "DescribeReservedInstances"),
        ("ec2", "us-west-2", "DescribeReservedInstances"),
    }

    answer = client.get("/v1/commitments", headers=org.headers("viewer"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["inventory"] == "billing_data+provider_api"
    owned = {o["commitment_id"]: o for o in body["owned"]}
    assert [o["commitment_id"] for o in body["owned"]] == [
        "ri-west-old",
        "ri-east-m5",
        "sp-ec2-family",
        PLAN,
        "sp-queued",
    ]  # by end
    ri = owned["ri-east-m5"]
    assert (ri["kind"], ri["region"], ri["instance_family"], ri["instance_count"]) == (
        "reserved_instance",
        "us-east-1",
        "m5",
        2,
    )
    assert Decimal(ri["hourly_commitment"]) == Decimal("0.0615")  # the two hourly recurring charges
    assert ri["days_to_expiry"] == 20 and ri["term_seconds"] == 31536000 and ri["state"] == "active"
    assert ri["arn"] == f"arn:aws:ec2:us-east-1:{ACCOUNT}:reserved-instances/ri-east-m5"
    old = owned["ri-west-old"]
    assert (old["region"], old["state"], Decimal(old["upfront"])) == ("us-west-2", "retired", Decimal(512))
    assert ri["used_cost"] is None  # the bill carries no row of it

    # The plan the sample bill carries: its used cost equals the sample's EffectiveCost summed by hand.
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["CommitmentDiscountId"] == PLAN_ARN]
    used = sum(
        (Decimal(r["EffectiveCost"]) for r in rows if r["CommitmentDiscountStatus"] == "Used"), Decimal(0)
    )
    assert len(rows) == 3 and Decimal(owned[PLAN]["used_cost"]) == used
    billed = {c["commitment_id"]: c for c in body["commitments"]}
    assert billed[PLAN_ARN]["expires_at"] == owned[PLAN]["end"]
    assert client.get("/v1/commitments", headers=other.headers("viewer")).json()["owned"] == []

    with Session(engine) as session:
        units = owned_instance_units(session, org.id, NOW)
        assert units == {(ACCOUNT, "us-east-1", "m5"): Decimal(16)}  # 2 x xlarge; retired and plans not
        assert owned_instance_units(session, org.id, NOW + timedelta(days=21)) == {}  # expired by then
        assert owned_instance_units(session, other.id, NOW) == {}
        assert owned_plan_hourly(session, org.id, NOW) == {(ACCOUNT, "us-east-1", "r6g"): Decimal("1.25")}
        # A later read that lists nothing for the account removes what it held.
        store(session, org.id, "aws", ACCOUNT, [], NOW)
        assert owned_instance_units(session, org.id, NOW) == {}
        session.rollback()

    # Purchase advice: 3 steady m5.xlarge VMs, 2 covered by the owned RI → only the third is suggested.
    steady = [vm(f"i-app-{n}").model_copy(update={"account_id": ACCOUNT}) for n in range(3)]
    util = {r.resource_id: metrics((45, 80), memory=(65, 85)) for r in steady}
    [advice] = [r for r in run(steady, util, owned_units=units) if r.rule_id == "commitment_coverage"]
    assert list(advice.resource_ids) == ["i-app-2"]
    assert advice.estimated_savings_monthly == Decimal("51.86")  # 140.16 × (1 − 0.63)
    assert [r for r in run(steady[:2], util, owned_units=units) if r.rule_id == "commitment_coverage"] == []
    # An EC2 Instance Savings Plan of the cell pays for one more VM: $0.121/h at the 0.63 rate covers
    # 0.121 / 0.63 x 730 = 140.21 of on-demand spend >= 140.16 (one VM); $0.120/h (139.05) covers none.
    cell = {(ACCOUNT, "us-east-1", "m5"): Decimal("0.121")}
    assert [
        r
        for r in run(steady, util, owned_units=units, owned_plan_hourly=cell)
        if r.rule_id == "commitment_coverage"
    ] == []
    [rest] = [
        r
        for r in run(steady, util, owned_plan_hourly={(ACCOUNT, "us-east-1", "m5"): Decimal("0.120")})
        if r.rule_id == "commitment_coverage"
    ]
    assert len(rest.resource_ids) == 3


def test_expiry_is_announced_once_per_commitment_and_threshold_to_admins_and_finops_managers(
    engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def ri(ri_id: str, end: datetime, state: str = "active") -> OwnedCommitment:
        return OwnedCommitment(
            provider="aws",
            account_id=ACCOUNT,
            commitment_id=ri_id,
            kind=OwnedKind.RESERVED_INSTANCE,
            region="us-east-1",
            instance_type="m5.large",
            instance_family="m5",
            instance_count=4,
            hourly_commitment=Decimal("0.25"),
            term_seconds=31536000,
            start=end - timedelta(days=365),
            end=end,
            state=state,
        )

    owned = [
        ri("ri-in-5-days", now + timedelta(days=5, hours=1)),
        ri("ri-in-30-days", now + timedelta(days=30)),  # the horizon is included
        ri("ri-in-31-days", now + timedelta(days=30, seconds=1)),
        ri("ri-retired", now + timedelta(days=3), state="retired"),
        ri("ri-ended", now - timedelta(seconds=1)),
    ]
    with Session(engine) as session:
        store(session, org.id, "aws", ACCOUNT, owned, now)
        sent = notify_commitments_expiring(session, org.id, now=now, public_url="https://finops.example.com")
        session.commit()
        assert len(sent) == 2
        assert (
            notify_commitments_expiring(session, org.id, now=now) == []
        )  # once per commitment and threshold
        later = notify_commitments_expiring(
            session, org.id, now=now + timedelta(hours=1)
        )  # 31-day one inside
        session.commit()
        assert len(later) == 1
        inbox = session.scalars(
            select(Notification).where(
                Notification.organization_id == org.id, Notification.event_type == "commitment.expiring"
            )
        ).all()
    titles = sorted({(n.title, n.severity) for n in inbox})
    assert titles == [
        ("Reserved Instance ri-in-30-days expires in 30 days", "warning"),
        ("Reserved Instance ri-in-31-days expires in 29 days", "warning"),
        ("Reserved Instance ri-in-5-days expires in 5 days", "critical"),
    ]
    assert {n.user_id for n in inbox} == {org.users["admin"], org.users["finops_manager"]}
    assert len(inbox) == 6  # three notices, each to the two roles once
    with pytest.raises(ValueError, match="thresholds"), Session(engine) as session:
        notify_commitments_expiring(session, org.id, now=now, thresholds=[0])


def test_collection_step_reads_the_account_through_the_aws_connector(
    engine: Engine, gateway_settings: Settings, fake: FakeCommitmentApis
) -> None:
    org = make_org(engine, gateway_settings)
    provider = AwsProvider(
        KEYS,
        {
            "endpoint_url": fake.endpoint,
            "account_id": ACCOUNT,
            "regions": ["us-east-1"],
            "use_pricing_api": False,
        },
    )
    context = CollectionContext(
        engine=engine,
        now=lambda: NOW,
        publish=None,
        utilisation_window_days=14,
        utilisation_retention_days=90,
    )
    ref = AccountRef(organization_id=org.id, cloud_account_id=uuid.uuid4())
    assert collect_owned_commitments(context, ref, provider, ACCOUNT) == (
        4,
        None,
    )  # 1 RI (one region), 3 plans
    with Session(engine) as session:
        assert owned_instance_units(session, org.id, NOW) == {(ACCOUNT, "us-east-1", "m5"): Decimal(16)}
        inbox = session.scalars(
            select(Notification.title).where(
                Notification.organization_id == org.id, Notification.event_type == "commitment.expiring"
            )
        ).all()
    assert set(inbox) == {"Reserved Instance ri-east-m5 expires in 20 days"}
    fake.denied = {"DescribeReservedInstances"}
    try:
        stored, reason = collect_owned_commitments(context, ref, provider, ACCOUNT)
    finally:
        fake.denied = set()
    assert stored is None and reason and "failed" in reason, reason
    with Session(engine) as session:  # what the earlier read stored is kept
        assert owned_instance_units(session, org.id, NOW) == {(ACCOUNT, "us-east-1", "m5"): Decimal(16)}
