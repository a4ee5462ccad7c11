"""Tenant scoping: every ORM statement on a :class:`TenantScoped` model is filtered by organisation.

``tenant_session(factory, org_id)`` opens a session bound to one organisation. A ``do_orm_execute`` hook
adds ``organization_id = :org`` (via ``with_loader_criteria``) to every SELECT, UPDATE and DELETE on scoped
models, including relationship and lazy loads, and a ``before_flush`` hook refuses to write a scoped row of
another organisation. The repository base builds on it, so no caller can forget the filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from cloudoptima.storage.base import TenantScoped

ORG_KEY = "organization_id"
ModelT = TypeVar("ModelT", bound=TenantScoped)


class TenantViolation(RuntimeError):
    """A write tried to cross organisations."""


def session_org(session: Session) -> uuid.UUID | None:
    """The organisation a session is scoped to, or None for an unscoped (system) session."""
    value = session.info.get(ORG_KEY)
    return value if isinstance(value, uuid.UUID) else None


@event.listens_for(Session, "do_orm_execute")
def _scope_statements(state: ORMExecuteState) -> None:
    org = session_org(state.session)
    if org is None or not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.organization_id == org, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, _context: Any, _instances: Any) -> None:
    org = session_org(session)
    if org is None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        current = obj.organization_id
        if current is None and obj in session.new:
            obj.organization_id = org
        elif current != org:
            raise TenantViolation(f"{type(obj).__name__} belongs to another organisation")


@contextmanager
def tenant_session(factory: sessionmaker[Session], organization_id: uuid.UUID) -> Iterator[Session]:
    """A session scoped to ``organization_id``: commits on success, rolls back on error."""
    with factory() as session:
        scope(session, organization_id)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def scope(session: Session, organization_id: uuid.UUID) -> Session:
    """Scope an existing session (e.g. a test's transactional session) to one organisation."""
    session.info[ORG_KEY] = organization_id
    return session


class TenantRepository(Generic[ModelT]):
    """CRUD for one tenant-scoped model within one organisation.

    Ids from another organisation behave exactly like ids that do not exist (``get`` returns None).
    """

    model: type[ModelT]

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        if session_org(session) not in (None, organization_id):
            raise TenantViolation("session is scoped to another organisation")
        self.session = scope(session, organization_id)
        self.organization_id = organization_id

    def query(self) -> Select[ModelT]:
        """A SELECT of this model, explicitly filtered by organisation (belt and braces with the hook)."""
        return select(self.model).where(self.model.organization_id == self.organization_id)

    def get(self, entity_id: uuid.UUID) -> ModelT | None:
        return self.session.scalars(self.query().where(self.model.id == entity_id)).first()  # type: ignore[attr-defined]

    def list(self, *, limit: int = 100, offset: int = 0) -> Sequence[ModelT]:
        return self.session.scalars(self.query().limit(limit).offset(offset)).all()

    def add(self, entity: ModelT) -> ModelT:
        entity.organization_id = self.organization_id
        self.session.add(entity)
        self.session.flush()
        return entity

    def delete(self, entity: ModelT) -> None:
        if entity.organization_id != self.organization_id:
            raise TenantViolation("cannot delete a row of another organisation")
        self.session.delete(entity)
        self.session.flush()
