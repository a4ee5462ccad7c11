"""Allocation activities: database I/O through ``cloudoptima.services.allocation.engine``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from cloudoptima.services.allocation.engine import (
    activate_version,
    allocate_range,
    allocation_months,
    load_rule_set,
    next_month,
)
from cloudoptima.storage.base import utcnow
from cloudoptima_workflows.allocation.inputs import (
    ActivateResult,
    MonthInput,
    MonthResult,
    ReallocateInput,
)
from cloudoptima_workflows.allocation.interface import AllocationActivityInterface


class AllocationActivities(AllocationActivityInterface):
    """Activities bound to a session factory and a clock (wired in the worker)."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._now = now

    @activity.defn(name="allocation.months")
    def months(self, params: ReallocateInput) -> list[date]:
        """The months (first days) of the organisation's cost history, oldest first."""
        with self._sessions() as session:
            return allocation_months(session.connection(), uuid.UUID(params.organization_id))

    @activity.defn(name="allocation.allocate_month")
    def allocate_month(self, params: MonthInput) -> MonthResult:
        """Rebuild one month of the version's allocated rows (one transaction; a rerun writes the same rows)."""
        org, dim = uuid.UUID(params.organization_id), uuid.UUID(params.dimension_id)
        with self._sessions() as session, session.begin():
            connection = session.connection()
            rule_set = load_rule_set(connection, org, dim, params.version)
            rows = allocate_range(
                connection, org, dim, params.version, rule_set, params.month, next_month(params.month)
            )
        return MonthResult(rows=rows)

    @activity.defn(name="allocation.activate")
    def activate(self, params: ReallocateInput) -> ActivateResult:
        """Switch the dimension to the version (unless a newer one is active) and drop the other versions."""
        org, dim = uuid.UUID(params.organization_id), uuid.UUID(params.dimension_id)
        with self._sessions() as session, session.begin():
            active = activate_version(session.connection(), org, dim, params.version, self._now())
        outcome = "is active" if active else "was superseded by a newer active version"
        activity.logger.info("allocation dimension %s: version %d %s", dim, params.version, outcome)
        return ActivateResult(active=active)
