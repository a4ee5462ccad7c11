"""Allocation dimensions and their rule-set versions, within one organisation.

Contract:
- A dimension's ``name`` is lower-case letters, digits and ``_`` (``team``, ``cost_center``), unique per
  organisation; bad input raises :class:`~cloudoptima.domain.allocation.AllocationRuleError` naming the field.
- :meth:`AllocationDimensions.save_rules` validates and stores the next version (immutable; versions count
  from 1); readers keep seeing ``active_version`` until re-allocation of the new version activates it.
- Every query is scoped to the organisation (ids of another organisation behave as unknown ones).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.allocation import AllocationRuleError, RuleSet, parse_rule_set
from cloudoptima.storage.models.allocation import AllocationDimensionRow, AllocationRuleSetRow
from cloudoptima.storage.tenancy import scope

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class DimensionNotFound(LookupError):
    """No such dimension in this organisation."""


@dataclass(frozen=True)
class DimensionView:
    id: uuid.UUID
    name: str
    description: str | None
    active_version: int | None
    latest_version: int
    allocated_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _view(row: AllocationDimensionRow) -> DimensionView:
    return DimensionView(
        row.id,
        row.name,
        row.description,
        row.active_version,
        row.latest_version,
        row.allocated_at,
        row.created_at,
        row.updated_at,
    )


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise AllocationRuleError(
            "name", "must be 1-63 lower-case letters, digits or _, starting with a letter"
        )
    return name


class AllocationDimensions:
    """CRUD of one organisation's dimensions and rule-set versions (module contract)."""

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        self._session = scope(session, organization_id)
        self._org = organization_id

    def _row(self, dimension_id: uuid.UUID) -> AllocationDimensionRow:
        row = self._session.scalars(
            select(AllocationDimensionRow).where(
                AllocationDimensionRow.organization_id == self._org, AllocationDimensionRow.id == dimension_id
            )
        ).first()
        if row is None:
            raise DimensionNotFound(f"allocation dimension {dimension_id} not found")
        return row

    def list(self) -> list[DimensionView]:
        rows = self._session.scalars(
            select(AllocationDimensionRow)
            .where(AllocationDimensionRow.organization_id == self._org)
            .order_by(AllocationDimensionRow.name)
        ).all()
        return [_view(row) for row in rows]

    def get(self, dimension_id: uuid.UUID) -> DimensionView:
        return _view(self._row(dimension_id))

    def by_name(self, name: str) -> DimensionView:
        row = self._session.scalars(
            select(AllocationDimensionRow).where(
                AllocationDimensionRow.organization_id == self._org, AllocationDimensionRow.name == name
            )
        ).first()
        if row is None:
            raise DimensionNotFound(f"allocation dimension {name!r} not found")
        return _view(row)

    def create(self, name: str, description: str | None, now: datetime) -> DimensionView:
        check_name(name)
        exists = self._session.scalars(
            select(AllocationDimensionRow.id).where(
                AllocationDimensionRow.organization_id == self._org, AllocationDimensionRow.name == name
            )
        ).first()
        if exists is not None:
            raise AllocationRuleError("name", f"a dimension named {name!r} already exists")
        row = AllocationDimensionRow(
            organization_id=self._org,
            name=name,
            description=description,
            latest_version=0,
            created_at=now,
            updated_at=now,
        )
        self._session.add(row)
        self._session.flush()
        return _view(row)

    def update(self, dimension_id: uuid.UUID, description: str | None, now: datetime) -> DimensionView:
        row = self._row(dimension_id)
        row.description = description
        row.updated_at = now
        self._session.flush()
        return _view(row)

    def delete(self, dimension_id: uuid.UUID) -> None:
        self._session.delete(self._row(dimension_id))
        self._session.flush()

    def save_rules(
        self, dimension_id: uuid.UUID, data: object, created_by: uuid.UUID | None, now: datetime
    ) -> tuple[DimensionView, RuleSet]:
        """Validate ``data`` and store it as the next version; returns the dimension and the parsed rules."""
        rule_set = parse_rule_set(data)
        row = self._session.scalars(
            select(AllocationDimensionRow)
            .where(
                AllocationDimensionRow.organization_id == self._org, AllocationDimensionRow.id == dimension_id
            )
            .with_for_update()
        ).first()
        if row is None:
            raise DimensionNotFound(f"allocation dimension {dimension_id} not found")
        row.latest_version += 1
        row.updated_at = now
        self._session.add(
            AllocationRuleSetRow(
                organization_id=self._org,
                dimension_id=row.id,
                version=row.latest_version,
                rules=rule_set.model_dump(mode="json"),
                created_by=created_by,
                created_at=now,
            )
        )
        self._session.flush()
        return _view(row), rule_set

    def rules(self, dimension_id: uuid.UUID, version: int | None = None) -> tuple[int, RuleSet] | None:
        """A version's rules (default: the latest); None when the dimension has none yet."""
        row = self._row(dimension_id)
        wanted = row.latest_version if version is None else version
        stored = self._session.scalars(
            select(AllocationRuleSetRow).where(
                AllocationRuleSetRow.organization_id == self._org,
                AllocationRuleSetRow.dimension_id == dimension_id,
                AllocationRuleSetRow.version == wanted,
            )
        ).first()
        return None if stored is None else (stored.version, parse_rule_set(stored.rules))
