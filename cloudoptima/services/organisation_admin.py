"""An organisation's own administration: read and update its name, subscription tier and settings.

Contract:
- ``read()`` gives the organisation with its settings as :class:`OrganisationSettings` (defaults filled in).
- ``update(actor, name=, tier=, settings=)`` applies what is given, all or nothing:
  ``settings`` goes through ``organisation_settings.apply_patch`` (unknown key → :class:`SettingsError`
  naming it and listing the known ones; wrong type → :class:`SettingsError` naming the key; ``None`` resets a
  key to its default; ``audit_retention_days`` below 365 → :class:`SettingsError` unless the administration
  was opened with ``allow_short_retention``, the platform's ``RETENTION_ALLOW_SHORT``); ``tier`` must be one of :data:`TIERS` (``ValueError`` listing them) and may be changed
  only by a *platform administrator* — a user whose ``is_platform_admin`` flag is set, which only the command
  line grants (``cloudoptima users platform-admin EMAIL``); anyone else gets :class:`TierChangeForbidden`
  even when they administer the organisation (the tier sets the request limits the platform grants).
  Returns the keys whose value changed (``name``, ``tier``, setting names) for the audit trail.
The caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.organisation_settings import OrganisationSettings, SettingsError, apply_patch
from cloudoptima.services.auth import normalise_email
from cloudoptima.services.rate_limits import TIER_LIMITS
from cloudoptima.storage.models import Organization, User

TIERS: tuple[str, ...] = tuple(TIER_LIMITS)

__all__ = [
    "TIERS",
    "OrganisationAdmin",
    "OrganisationView",
    "SettingsError",
    "TierChangeForbidden",
    "set_platform_admin",
]


class TierChangeForbidden(PermissionError):
    """Only a platform administrator may change a subscription tier (the message says so)."""


@dataclass(frozen=True)
class OrganisationView:
    id: uuid.UUID
    name: str
    tier: str
    settings: OrganisationSettings
    created_at: datetime


class OrganisationAdmin:
    """Administration of one organisation (see module contract); the caller commits."""

    def __init__(
        self, session: Session, organization_id: uuid.UUID, *, allow_short_retention: bool = False
    ) -> None:
        self._session = session
        self._org_id = organization_id
        self._allow_short_retention = allow_short_retention

    def _row(self, *, lock: bool = False) -> Organization:
        org = self._session.get(Organization, self._org_id, with_for_update=lock)
        if org is None:
            raise LookupError(f"organisation {self._org_id} not found")
        return org

    def read(self) -> OrganisationView:
        org = self._row()
        return OrganisationView(
            id=org.id,
            name=org.name,
            tier=org.subscription_tier,
            settings=OrganisationSettings.of(org.settings),
            created_at=org.created_at,
        )

    def update(
        self,
        actor_id: uuid.UUID,
        *,
        name: str | None = None,
        tier: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[str]:
        org = self._row(lock=True)
        changed: list[str] = []
        merged: dict[str, Any] | None = None
        if settings:
            merged, changed_settings = apply_patch(
                org.settings, settings, allow_short_retention=self._allow_short_retention
            )
            changed.extend(changed_settings)
        if tier is not None and tier != org.subscription_tier:
            if tier not in TIERS:
                raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
            if not self._is_platform_admin(actor_id):
                raise TierChangeForbidden(
                    "only a platform administrator may change the subscription tier (granted with "
                    "`cloudoptima users platform-admin EMAIL`); organisation admins cannot change their own tier"
                )
            org.subscription_tier = tier
            changed.insert(0, "tier")
        if name is not None and name.strip() and name.strip() != org.name:
            org.name = name.strip()
            changed.insert(0, "name")
        if merged is not None:
            org.settings = merged
        self._session.flush()
        return changed

    def _is_platform_admin(self, actor_id: uuid.UUID) -> bool:
        actor = self._session.get(User, actor_id)
        return actor is not None and actor.is_active and bool(actor.is_platform_admin)


def set_platform_admin(session: Session, email: str, *, grant: bool) -> User:
    """Grant (or take away) the platform-administrator flag of the account ``email`` (unscoped session; the
    command line is the only caller). ``LookupError`` when no account has that address."""
    user = session.scalars(select(User).where(func.lower(User.email) == normalise_email(email))).first()
    if user is None:
        raise LookupError(f"no account with email {email!r}")
    user.is_platform_admin = grant
    session.flush()
    return user
