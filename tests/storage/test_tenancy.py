"""Tenant isolation: a session scoped to one organisation never sees or writes another's rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cloudoptima.storage.models import Budget, Organization
from cloudoptima.storage.tenancy import TenantRepository, TenantViolation, scope


class BudgetRepository(TenantRepository[Budget]):
    model = Budget


def _org(session: Session, name: str) -> Organization:
    org = Organization(name=name, subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    return org


def _budget(org: Organization, name: str) -> Budget:
    import datetime as dt

    return Budget(
        organization_id=org.id,
        name=name,
        amount=Decimal("100.00"),
        period="monthly",
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )


def test_repository_hides_other_organisations(db_session: Session) -> None:
    a, b = _org(db_session, "A"), _org(db_session, "B")
    db_session.add_all([_budget(a, "a1"), _budget(a, "a2"), _budget(b, "b1")])
    db_session.flush()
    foreign = db_session.scalars(select(Budget).where(Budget.name == "b1")).one()

    repo = BudgetRepository(db_session, a.id)
    assert sorted(x.name for x in repo.list()) == ["a1", "a2"]
    assert repo.get(foreign.id) is None


def test_scoped_session_filters_even_plain_queries(db_session: Session) -> None:
    a, b = _org(db_session, "A"), _org(db_session, "B")
    db_session.add_all([_budget(a, "a1"), _budget(b, "b1")])
    db_session.flush()
    scope(db_session, a.id)
    names = db_session.scalars(select(Budget.name)).all()
    assert names == ["a1"], "a caller that forgets the filter still gets only its organisation"
    db_session.execute(update(Budget).values(name="renamed"))
    db_session.info.pop("organization_id")
    both = select(Budget.name).where(Budget.organization_id.in_([a.id, b.id]))
    assert sorted(db_session.scalars(both).all()) == ["b1", "renamed"], (
        "the update touched only organisation A"
    )


def test_writing_a_row_of_another_organisation_is_refused(db_session: Session) -> None:
    a, b = _org(db_session, "A"), _org(db_session, "B")
    db_session.add(_budget(b, "b1"))
    db_session.flush()
    scope(db_session, a.id)
    db_session.add(_budget(b, "sneaky"))
    with pytest.raises(TenantViolation):
        db_session.flush()


def test_repository_assigns_its_organisation(db_session: Session) -> None:
    a = _org(db_session, "A")
    repo = BudgetRepository(db_session, a.id)
    created = repo.add(_budget(a, "x"))
    assert created.organization_id == a.id
    repo.delete(created)
    assert repo.list() == []
