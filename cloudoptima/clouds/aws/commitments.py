"""AWS Reserved Instances and Savings Plans of one account, as :class:`OwnedCommitment` (#22 inventory).

Contract: :func:`read_owned` reads one account: its RIs in every region given, then its Savings Plans.
:func:`reserved_instances` reads ``ec2:DescribeReservedInstances`` in one region (every state;
the API has no pagination); :func:`savings_plans` reads ``savingsplans:DescribeSavingsPlans`` (global,
paged through ``nextToken``, ``page_size`` per request). Timestamps are UTC; money is Decimal. An RI's
hourly commitment is the sum of its ``Hourly`` recurring charges plus its ``UsagePrice``; its ARN is
``arn:aws:ec2:<region>:<account>:reserved-instances/<id>`` (the CUR's reservation ARN). Errors leave as
protocol errors (:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from cloudoptima.clouds.aws.ec2_inventory import utc
from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.domain.owned_commitments import OwnedCommitment, OwnedKind

PROVIDER = "aws"


def _region_of(ri: dict[str, Any], region: str) -> str:
    zone = ri.get("AvailabilityZone")
    return str(zone)[:-1] if zone and ri.get("Scope") == "Availability Zone" else region


def _hourly(ri: dict[str, Any]) -> Decimal:
    total = Decimal(str(ri.get("UsagePrice", 0) or 0))
    for charge in ri.get("RecurringCharges") or []:
        if charge.get("Frequency") == "Hourly":
            total += Decimal(str(charge.get("Amount", 0)))
    return total


def reserved_instances(ec2: Any, account_id: str, region: str) -> list[OwnedCommitment]:
    """Every Reserved Instance of ``account_id`` in ``region`` (module contract), ordered by id."""
    with aws_errors("ec2"):
        found = ec2.describe_reserved_instances().get("ReservedInstances", [])
    items = []
    for ri in found:
        ri_id = ri["ReservedInstancesId"]
        instance_type = ri["InstanceType"]
        start: datetime = utc(ri["Start"])
        items.append(
            OwnedCommitment(
                provider=PROVIDER,
                account_id=account_id,
                commitment_id=ri_id,
                arn=f"arn:aws:ec2:{region}:{account_id}:reserved-instances/{ri_id}",
                kind=OwnedKind.RESERVED_INSTANCE,
                plan_type=ri.get("OfferingClass"),
                region=_region_of(ri, region),
                instance_type=instance_type,
                instance_family=instance_type.split(".")[0],
                instance_count=int(ri["InstanceCount"]),
                hourly_commitment=_hourly(ri),
                upfront=Decimal(str(ri.get("FixedPrice", 0) or 0)),
                currency=ri.get("CurrencyCode") or "USD",
                payment_option=ri.get("OfferingType"),
                term_seconds=int(ri["Duration"]),
                start=start,
                end=utc(ri["End"]),
                state=ri["State"],
            )
        )
    return sorted(items, key=lambda c: c.commitment_id)


def _iso(value: str) -> datetime:
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def savings_plans(client: Any, account_id: str, page_size: int = 100) -> list[OwnedCommitment]:
    """Every Savings Plan of ``account_id`` (module contract), ordered by id."""
    items: list[OwnedCommitment] = []
    token: str | None = None
    with aws_errors("savingsplans"):
        while True:
            args: dict[str, Any] = {"maxResults": page_size}
            if token:
                args["nextToken"] = token
            page = client.describe_savings_plans(**args)
            for plan in page.get("savingsPlans", []):
                family = plan.get("ec2InstanceFamily") or None
                items.append(
                    OwnedCommitment(
                        provider=PROVIDER,
                        account_id=account_id,
                        commitment_id=plan["savingsPlanId"],
                        arn=plan.get("savingsPlanArn"),
                        kind=OwnedKind.SAVINGS_PLAN,
                        plan_type=plan.get("savingsPlanType"),
                        region=plan.get("region") or None,
                        instance_family=family,
                        hourly_commitment=Decimal(plan["commitment"]),
                        upfront=Decimal(plan.get("upfrontPaymentAmount") or 0),
                        currency=plan.get("currency") or "USD",
                        payment_option=plan.get("paymentOption"),
                        term_seconds=int(plan["termDurationInSeconds"]),
                        start=_iso(plan["start"]),
                        end=_iso(plan["end"]),
                        state=plan["state"],
                    )
                )
            token = page.get("nextToken")
            if not token:
                break
    return sorted(items, key=lambda c: c.commitment_id)


def read_owned(aws: Any, account_id: str, regions: Iterable[str]) -> list[OwnedCommitment]:
    """RIs of ``account_id`` in each of ``regions`` then its Savings Plans; ``aws`` is an
    :class:`~cloudoptima.clouds.aws.session.AwsSession` (one ``ec2`` client per region)."""
    items: list[OwnedCommitment] = []
    for region in sorted(set(regions)):
        items += reserved_instances(aws.client("ec2", region), account_id, region)
    return items + savings_plans(aws.client("savingsplans"), account_id)
