"""``cloudoptima maintenance retention``: at a pinned ``--at`` (2001), a notification 181 days old is counted
by ``--dry-run`` (and kept), then removed; the one 179 days old stays; bad options are refused by name."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.storage.models import Notification, Organization, User
from cloudoptima_cli.app import app

AT = datetime(2001, 6, 15, 12, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with Session(engine) as session, session.begin():
        session.add(Organization(id=org_id, name=f"cli-ret-{org_id}", subscription_tier="free", settings={}))
        session.flush()
        user = User(
            organization_id=org_id, email=f"ret-{org_id}@example.com", password_hash="-", role="admin"
        )
        session.add(user)
        session.flush()
        for key, days in (("old", 181), ("recent", 179)):
            session.add(
                Notification(
                    organization_id=org_id, user_id=user.id, event_type="test", severity="info", title=key,
                    summary=key, payload={}, idempotency_key=key, created_at=AT - timedelta(days=days),
                )
            )  # fmt: skip
    yield org_id
    with Session(engine) as session, session.begin():
        for model in (Notification, User):
            session.execute(delete(model).where(model.organization_id == org_id))  # type: ignore[attr-defined]
        session.execute(delete(Organization).where(Organization.id == org_id))


def _titles(engine: Engine, org_id: uuid.UUID) -> list[str]:
    with Session(engine) as session:
        return sorted(
            session.scalars(select(Notification.title).where(Notification.organization_id == org_id))
        )


def test_dry_run_then_run(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    args = ["maintenance", "retention", "--family", "notifications", "--at", AT.isoformat(), "--json"]
    state = ["--state-dir", str(tmp_path)]

    dry = CliRunner().invoke(app, [*args, "--dry-run", *state])
    assert dry.exit_code == 0, dry.output
    [counted] = json.loads(dry.output)
    assert counted["family"] == "notifications" and counted["dry_run"] is True and counted["removed"] >= 1
    assert counted["cutoff"] == (AT - timedelta(days=180)).isoformat()
    assert _titles(engine, org) == ["old", "recent"]

    done = CliRunner().invoke(app, [*args, *state])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)[0]["removed"] == counted["removed"]
    assert _titles(engine, org) == ["recent"]

    table = CliRunner().invoke(app, ["maintenance", "retention", "--dry-run", "--at", AT.isoformat(), *state])
    assert table.exit_code == 0, table.output
    assert "dry run" in table.output and "cost_rows" in table.output and "chat_checkpoints" in table.output

    bad = CliRunner().invoke(app, ["maintenance", "retention", "--family", "rollups", *state])
    assert bad.exit_code == 1 and "--family: unknown rollups" in bad.output
    short = CliRunner().invoke(
        app, ["maintenance", "retention", "--dry-run", *state], env={"NOTIFICATIONS_RETENTION_DAYS": "5"}
    )
    assert short.exit_code == 1 and "NOTIFICATIONS_RETENTION_DAYS" in short.output
