"""The audit log's retention floor (issue #23): entries are kept at least 365 days unless the platform sets
``RETENTION_ALLOW_SHORT``. A patch below the floor is refused naming the setting; a value already stored
below it (written before the floor existed) is pruned as if it were 365; the flag lets both through.
The clock is pinned: ``NOW`` lies decades before any other test's rows, so pruning every organisation at
``NOW`` touches only this test's own rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.organisation_settings import (
    AUDIT_RETENTION_FLOOR_DAYS,
    OrganisationSettings,
    SettingsError,
    apply_patch,
)
from cloudoptima.services.audit import AuditEntry, record
from cloudoptima.services.audit_retention import prune_all
from cloudoptima.services.organisation_admin import OrganisationAdmin
from cloudoptima.services.retention import RetentionPolicy, run
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog, Organization, User

NOW = datetime(1995, 6, 1, 12, tzinfo=UTC)
AGES = (10, 40, 364, 366)
POLICY = RetentionPolicy(
    cost_rows_days=400, utilisation_days=93, notifications_days=180, chat_checkpoints_days=90
)


def test_a_patch_below_the_floor_is_refused_naming_the_setting_unless_short_retention_is_allowed() -> None:
    with pytest.raises(
        SettingsError, match="'audit_retention_days': 30 is below the safe minimum of 365"
    ) as e:
        apply_patch({}, {"audit_retention_days": 30})
    assert e.value.key == "audit_retention_days" and "RETENTION_ALLOW_SHORT" in str(e.value)
    with pytest.raises(SettingsError, match="364 is below"):
        apply_patch(
            {}, {"audit_retention_days": "364"}
        )  # a string the model coerces is checked as the number
    merged, changed = apply_patch({}, {"audit_retention_days": AUDIT_RETENTION_FLOOR_DAYS})
    assert merged == {"audit_retention_days": 365} and changed == []  # 365 is the default
    merged, changed = apply_patch({}, {"audit_retention_days": 30}, allow_short_retention=True)
    assert merged == {"audit_retention_days": 30} and changed == ["audit_retention_days"]
    with pytest.raises(SettingsError, match="greater than or equal to 1"):
        apply_patch({}, {"audit_retention_days": 0}, allow_short_retention=True)

    stored = OrganisationSettings.of({"audit_retention_days": 30})
    assert stored.audit_retention_days == 30
    assert stored.audit_days_kept(allow_short=False) == 365 and stored.audit_days_kept(allow_short=True) == 30
    assert OrganisationSettings.of({"audit_retention_days": 730}).audit_days_kept(allow_short=False) == 730


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def short_org(factory: sessionmaker[Session]) -> Iterator[uuid.UUID]:
    """An organisation whose stored audit retention (30 days) predates the floor, with an admin and audit rows
    10, 40, 364 and 366 days before ``NOW``."""
    with factory() as session, session.begin():
        org = Organization(name=f"audit-floor-{uuid.uuid4().hex[:8]}", settings={"audit_retention_days": 30})
        session.add(org)
        session.flush()
        session.add(
            User(organization_id=org.id, email=f"a-{org.id}@example.com", password_hash="-", role="admin")
        )
        org_id = org.id
    for days in AGES:
        entry = AuditEntry(org_id, None, f"probe.{days}d", "success", timestamp=NOW - timedelta(days=days))
        record(factory, entry)
    yield org_id
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id == org_id))


def _actions(factory: sessionmaker[Session], org: uuid.UUID) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(AuditLog.action).where(AuditLog.organization_id == org)))


def test_a_stored_short_retention_prunes_at_the_floor_and_only_the_flag_lets_it_apply(
    factory: sessionmaker[Session], short_org: uuid.UUID
) -> None:
    # The retention's dry run counts what the prune will remove: the 366-day row only.
    counted = run(factory, "audit", POLICY, now=NOW, dry_run=True)
    assert counted.removed == 1 and counted.cutoff == NOW - timedelta(days=365)

    assert run(factory, "audit", POLICY, now=NOW, dry_run=False).removed == 1
    assert _actions(factory, short_org) == {"probe.10d", "probe.40d", "probe.364d", "audit_logs.pruned"}
    with factory() as session:
        pruned = session.scalars(
            select(AuditLog).where(
                AuditLog.organization_id == short_org, AuditLog.action == "audit_logs.pruned"
            )
        ).one()
    assert pruned.details["retention_days"] == 365 and pruned.details["deleted"] == 1
    assert prune_all(factory, now=NOW) == {}  # idempotent at the floor

    # RETENTION_ALLOW_SHORT: the organisation's own 30 days apply (dry run and prune agree).
    short = RetentionPolicy(**{**POLICY.__dict__, "allow_short": True})
    assert run(factory, "audit", short, now=NOW, dry_run=True).removed == 2
    assert prune_all(factory, now=NOW, allow_short=True) == {str(short_org): 2}
    assert _actions(factory, short_org) == {"probe.10d", "audit_logs.pruned"}


def test_the_organisation_administration_follows_the_platform_flag(
    factory: sessionmaker[Session], short_org: uuid.UUID
) -> None:
    with factory() as session:
        admin_id = session.scalars(select(User.id).where(User.organization_id == short_org)).one()
    with factory() as session, session.begin():
        with pytest.raises(SettingsError) as refused:
            OrganisationAdmin(session, short_org).update(admin_id, settings={"audit_retention_days": 90})
        assert refused.value.key == "audit_retention_days"
    with factory() as session, session.begin():
        allowed = OrganisationAdmin(session, short_org, allow_short_retention=True)
        assert allowed.update(admin_id, settings={"audit_retention_days": 90}) == ["audit_retention_days"]
    with factory() as session:
        assert OrganisationAdmin(session, short_org).read().settings.audit_retention_days == 90
