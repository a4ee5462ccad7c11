"""Real cost rollup rows for report tests: an organisation and its ``cost_daily`` rows, and their removal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from cloudoptima.storage.models import CostDaily, Organization


@dataclass(frozen=True)
class Cost:
    """One rollup row: a day's billed cost of one account, service and region, with its tag values."""

    day: date
    amount: Decimal
    account: str = "111111111111"
    service: str = "AmazonEC2"
    region: str = "us-east-1"
    tags: dict[str, Any] = field(default_factory=dict)
    currency: str = "USD"


def make_organisation(engine: Engine, name: str = "reports") -> tuple[uuid.UUID, str]:
    """A new organisation (default settings: ``team`` is a rollup tag key); its id and unique name."""
    unique = f"{name}-{uuid.uuid4().hex[:8]}"
    with Session(engine) as session:
        org = Organization(name=unique, subscription_tier="enterprise", settings={})
        session.add(org)
        session.commit()
        return org.id, unique


def add_costs(engine: Engine, org: uuid.UUID, costs: list[Cost]) -> None:
    """Insert ``costs`` as ``cost_daily`` rows of ``org``."""
    with Session(engine) as session:
        for cost in costs:
            session.add(
                CostDaily(
                    organization_id=org,
                    usage_date=cost.day,
                    provider="aws",
                    billing_account_id=cost.account,
                    sub_account_id=cost.account,
                    service_name=cost.service,
                    region_id=cost.region,
                    charge_category="Usage",
                    billing_currency=cost.currency,
                    tag_values=cost.tags,
                    billed_cost=cost.amount,
                    effective_cost=cost.amount,
                    list_cost=cost.amount,
                    row_count=1,
                )
            )
        session.commit()


def remove_organisation(engine: Engine, org: uuid.UUID) -> None:
    """Delete ``org``'s cost rows and the organisation."""
    with Session(engine) as session:
        session.execute(delete(CostDaily).where(CostDaily.organization_id == org))
        session.execute(delete(Organization).where(Organization.id == org))
        session.commit()


def days(start: date, end: date) -> list[date]:
    """Every day of ``[start, end)``."""
    return [start + timedelta(days=n) for n in range((end - start).days)]


def two_months(previous_start: date, start: date, end: date) -> list[Cost]:
    """A spread of costs over ``[previous_start, end)``: two accounts, three services, two regions, a ``team``
    tag on some rows; cents that binary floats get wrong and a 3-decimal amount."""
    costs: list[Cost] = []
    for n, day in enumerate(days(previous_start, end)):
        current = day >= start
        costs.append(Cost(day, Decimal("10.10") + Decimal(n % 3) / 100, tags={"team": "web"}))
        costs.append(
            Cost(
                day,
                Decimal("0.20") if current else Decimal("0.10"),
                account="222222222222",
                service="AmazonS3",
                region="eu-west-1",
            )
        )
        if current and n % 7 == 0:
            costs.append(
                Cost(day, Decimal("3.125"), service="AmazonRDS", tags={"team": "data"}, region="eu-west-1")
            )
    return costs
