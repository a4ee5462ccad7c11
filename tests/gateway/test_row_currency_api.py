"""Recommendations and anomalies carry the currency of the costs they were computed from: a recommendation
that of its account's costs (the organisation's when it has no account), an anomaly that of its window's costs;
null when there are none or several."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import Anomaly, CostDaily, Recommendation
from tests.gateway.conftest import make_org, recent_days


def _cost(org: uuid.UUID, day: object, account: str, currency: str) -> CostDaily:
    return CostDaily(
        organization_id=org, usage_date=day, provider="aws", billing_account_id="payer", sub_account_id=account,
        service_name="Amazon EC2", billing_currency=currency, billed_cost=Decimal("10"), effective_cost=Decimal("10"),
        list_cost=Decimal("10"), row_count=1,
    )  # fmt: skip


def _rec(org: uuid.UUID, account: str | None, title: str) -> Recommendation:
    return Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, provider="aws", account_identifier=account, title=title,
        category="compute", risk_level="low", resource_ids=["i-1"], estimated_savings_monthly=Decimal("671.59"),
        affected_resources=[{"id": "i-1", "name": "i-1", "current_cost": "1.00"}], actions=[], status="active",
    )  # fmt: skip


def test_recommendations_and_anomalies_carry_their_costs_currency(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="currency-a")
    eur_day, usd_day, empty_day = recent_days(5)[0], recent_days(5)[2], recent_days(5)[4]
    with Session(engine) as session:
        session.add_all(
            [
                _cost(org.id, eur_day, "acct-eur", "EUR"),
                _cost(org.id, eur_day + timedelta(days=1), "acct-eur", "EUR"),
                _cost(org.id, usd_day, "acct-usd", "USD"),
                _rec(org.id, "acct-eur", "eur"),
                _rec(org.id, "acct-usd", "usd"),
                _rec(org.id, "acct-none", "unknown"),
                _rec(org.id, None, "whole"),
            ]
        )
        for start, end in (
            (eur_day, eur_day + timedelta(days=1)),
            (eur_day, usd_day),
            (empty_day, empty_day),
        ):
            session.add(
                Anomaly(
                    organization_id=org.id,
                    severity="high",
                    fingerprint=uuid.uuid4().hex[:32],
                    start_date=start,
                    end_date=end,
                    impact_amount=Decimal("100.96"),
                )
            )
        session.commit()

    listed = client.get("/v1/recommendations", headers=org.headers("viewer"))
    assert listed.status_code == 200, listed.text
    by_title = {r["title"]: r for r in listed.json()["recommendations"]}
    assert {t: r["currency"] for t, r in by_title.items()} == {
        "eur": "EUR",
        "usd": "USD",
        "unknown": None,  # no costs for that account
        "whole": None,  # the organisation's costs are in two currencies
    }
    one = client.get(f"/v1/recommendations/{by_title['eur']['id']}", headers=org.headers("viewer"))
    assert one.status_code == 200 and one.json()["currency"] == "EUR"

    anomalies = client.get("/v1/costs/anomalies", headers=org.headers("viewer")).json()["anomalies"]
    windows = {(a["start_date"], a["end_date"]): a["currency"] for a in anomalies}
    assert windows == {
        (str(eur_day), str(eur_day + timedelta(days=1))): "EUR",  # the last day is inclusive: still EUR only
        (str(eur_day), str(usd_day)): None,  # EUR and USD days
        (str(empty_day), str(empty_day)): None,  # no costs
    }
    detail = client.get(f"/v1/costs/anomalies/{anomalies[0]['id']}", headers=org.headers("viewer")).json()
    assert detail == anomalies[0]
