"""``GET /v1/recommendations?status=&owner=&overdue=&due_before=`` (#22): lifecycle filters, ``owner=me`` / an
e-mail, accepted implied by owner and due-date filters, and 422s naming the bad field. Due dates are 2020 and 2999
so what is overdue does not depend on the day the test runs."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import Recommendation, User
from tests.gateway.conftest import make_org


def _rec(org: uuid.UUID, name: str, status: str, owner: uuid.UUID | None, due: date | None) -> Recommendation:
    return Recommendation(
        organization_id=org, fingerprint=f"fp-{name}", rule_id="idle_vm", provider="aws", title=name,
        category="compute", risk_level="low", resource_ids=[name], affected_resources=[], actions=[],
        status=status, estimated_savings_monthly=Decimal("10.00"), priority=Decimal(1), owner_user_id=owner,
        due_date=due,
    )  # fmt: skip


def test_lifecycle_filters_of_the_list(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="filters")
    manager, admin = org.users["finops_manager"], org.users["admin"]
    with Session(engine) as session:
        session.add_all(
            [
                _rec(org.id, "late", "accepted", manager, date(2020, 1, 31)),
                _rec(org.id, "later", "accepted", admin, date(2999, 12, 31)),
                _rec(org.id, "fresh", "active", None, None),
                _rec(org.id, "wrong", "false_positive", None, None),
            ]
        )
        session.commit()
        admin_email = session.get_one(User, admin).email

    def titles(headers: dict[str, str] | None = None, **params: str) -> list[str]:
        answer = client.get("/v1/recommendations", params=params, headers=headers or org.headers("viewer"))
        assert answer.status_code == 200, answer.text
        return sorted(r["title"] for r in answer.json()["recommendations"])

    def refused(**params: str) -> tuple[list[str], str]:
        answer = client.get("/v1/recommendations", params=params, headers=org.headers("viewer"))
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["detail"]
        return error["loc"], error["msg"]

    assert titles() == ["fresh"] == titles(status="open")
    assert titles(status="accepted") == ["late", "later"]
    assert titles(status="false_positive") == ["wrong"]
    assert titles(overdue="true") == ["late"]  # accepted implied
    assert titles(due_before="3000-01-01") == ["late", "later"]
    assert titles(due_before="2999-12-31") == ["late"]  # exclusive
    assert titles(org.headers("finops_manager"), owner="me") == ["late"]
    assert titles(owner=admin_email.upper()) == ["later"]
    assert titles(owner=str(admin), overdue="true") == []

    assert refused(status="bogus")[0] == ["query", "status"]
    loc, msg = refused(status="active", overdue="true")
    assert loc == ["query", "overdue"] and "only accepted recommendations have a due date" in msg
    assert refused(status="snoozed", due_before="2030-01-01")[0] == ["query", "due_before"]
    loc, msg = refused(owner="nobody@example.com")
    assert loc == ["query", "owner"] and "'nobody@example.com' is not a user of the organisation" in msg
    assert refused(due_before="31/12/2030")[0] == ["query", "due_before"]
    assert refused(overdue="true", due_before="2030-01-01")[0] == ["query", "overdue"]
