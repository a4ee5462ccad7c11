"""Lifecycle filters of the recommendations list (#22): status, owner, overdue, due before.

Contract (:func:`lifecycle_filter`, shared by ``GET /v1/recommendations``, the MCP ``recommendations_list`` tool
and ``cloudoptima recommendations list`` so they refuse the same input with the same words):

- ``status`` is a stored status (``active`` … ``expired``) or ``open`` (= ``active``); unset means ``accepted`` when an owner, ``overdue`` or ``due_before`` is asked,
  else ``active`` (open).
- ``owner`` is ``me`` (needs the caller's user id), a user id, or an e-mail of a user of the organisation.
- ``overdue`` keeps accepted recommendations whose due date is before the caller's UTC day; ``due_before``
  those whose due date is before that date. Both are only for ``accepted`` (a due date belongs to it).
- Bad input raises :class:`FilterError` naming the field and the value.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.storage.models import Recommendation, User

_ALIASES = {"open": RecommendationStatus.ACTIVE.value}


class FilterError(ValueError):
    """A list filter is invalid; ``field`` names it (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class LifecycleFilter:
    """What the list selects beyond category/risk/savings."""

    status: RecommendationStatus
    owner_user_id: uuid.UUID | None = None
    due_before: date | None = None
    """Exclusive: ``due_date < due_before`` (``overdue`` is ``due_before`` = the caller's day)."""

    def keeps(self, row: Recommendation) -> bool:
        """Whether ``row`` passes :attr:`due_before` (status and owner are filtered by the query)."""
        return self.due_before is None or (row.due_date is not None and row.due_date < self.due_before)


def parse_status(value: str) -> RecommendationStatus:
    """A stored status or ``open``; :class:`FilterError` (field ``status``) listing the valid ones."""
    stored = _ALIASES.get(value, value)
    try:
        return RecommendationStatus(stored)
    except ValueError:
        valid = ", ".join(["open", *(s.value for s in RecommendationStatus)])
        raise FilterError("status", f"{value!r} is not one of {valid}") from None


def resolve_owner(session: Session, org: uuid.UUID, value: str, me: uuid.UUID | None) -> uuid.UUID:
    """The user id ``value`` names in ``org``: ``me``, a user id or an e-mail (see module contract)."""
    text = value.strip()
    if text.lower() == "me":
        if me is None:
            raise FilterError("owner", "'me' needs a signed-in user (pass a user id or e-mail)")
        return me
    try:
        user_id: uuid.UUID | None = uuid.UUID(text)
    except ValueError:
        user_id = None
    where = User.id == user_id if user_id is not None else func.lower(User.email) == text.lower()
    found = session.scalar(select(User.id).where(User.organization_id == org, where))
    if found is None:
        raise FilterError(
            "owner", f"{value!r} is not a user of the organisation (use me, a user id or e-mail)"
        )
    return found


def lifecycle_filter(
    session: Session,
    org: uuid.UUID,
    *,
    today: date,
    status: str | None = None,
    owner: str | None = None,
    owner_user_id: uuid.UUID | None = None,
    me: uuid.UUID | None = None,
    overdue: bool = False,
    due_before: date | None = None,
) -> LifecycleFilter:
    """The checked filter (see module contract); ``today`` is the caller's UTC day; ``owner_user_id`` is taken
    as given (an unknown id selects nothing), ``owner`` must name a user."""
    if overdue and due_before is not None:
        raise FilterError("overdue", "give either overdue or due_before, not both")
    dated = overdue or due_before is not None
    if status is None:
        owned = owner is not None or owner_user_id is not None
        chosen = RecommendationStatus.ACCEPTED if (dated or owned) else RecommendationStatus.ACTIVE
    else:
        chosen = parse_status(status)
    if dated and chosen is not RecommendationStatus.ACCEPTED:
        field = "overdue" if overdue else "due_before"
        raise FilterError(field, f"only accepted recommendations have a due date, not status={status!r}")
    return LifecycleFilter(
        status=chosen,
        owner_user_id=resolve_owner(session, org, owner, me) if owner is not None else owner_user_id,
        due_before=today if overdue else due_before,
    )
