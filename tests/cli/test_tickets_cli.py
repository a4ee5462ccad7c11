"""``cloudoptima tickets-sync``: a GitHub issue closed as not planned (strict local fake) dismisses its
recommendation from the CLI; an issue the tracker no longer knows is marked gone; a tracker refusing its token
is reported naming the tracker (exit 1) and kept on the tracker as ``last_sync_error``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.tickets import Tickets
from cloudoptima.settings import load_settings
from cloudoptima.storage.models import Organization, Recommendation
from cloudoptima.storage.models.tickets import RecommendationTicketRow, TicketTrackerRow
from cloudoptima.storage.tenancy import scope
from cloudoptima_cli.app import app
from tests.gateway.fake_trackers import GITHUB_TOKEN, REPO, FakeTrackers


def test_tickets_sync_dismisses_not_planned(
    engine: Engine, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = tmp_path / "state"
    cipher = CredentialCipher(load_settings(state_dir=state).resolved_encryption_keys)
    org_id, now = uuid.uuid4(), datetime.now(UTC)
    with FakeTrackers() as fake:
        with Session(engine) as session:
            session.add(Organization(id=org_id, name=f"cli-{org_id}", subscription_tier="free", settings={}))
            session.flush()
            scope(session, org_id)
            recs = [
                Recommendation(
                    organization_id=org_id, fingerprint=uuid.uuid4().hex, provider="aws", title=f"Stop i-{i}",
                    rule_id="idle-stop", category="compute", risk_level="low", resource_ids=[f"i-{i}"],
                    affected_resources=[], actions=[], status="active", estimated_savings_monthly=Decimal("5"),
                )
                for i in range(3)
            ]  # fmt: skip
            session.add_all(recs)
            tickets = Tickets(session, org_id, cipher=cipher, now=lambda: now, allow_insecure_localhost=True)
            tracker = tickets.add_tracker(
                name="gh", kind="github", base_url=fake.url, project=REPO, token=GITHUB_TOKEN, login=None,
                actor=AuditActor(),
            )  # fmt: skip
            refused = tickets.add_tracker(
                name="gh-old", kind="github", base_url=fake.url, project=REPO, token="revoked", login=None,
                actor=AuditActor(),
            )  # fmt: skip
            for rec, key, where in zip(recs, ("1", "999", "1"), (tracker, tracker, refused), strict=True):
                session.add(
                    RecommendationTicketRow(
                        organization_id=org_id, recommendation_id=rec.id, tracker_id=where.id,
                        external_key=key, url=f"https://github.com/{REPO}/issues/{key}", created_at=now,
                    )
                )  # fmt: skip
            session.commit()
            declined, lost, stuck = recs[0].id, recs[1].id, recs[2].id
        fake.state.github[1] = {
            "number": 1,
            "state": "closed",
            "state_reason": "not_planned",
            "html_url": "x",
        }
        answer = CliRunner().invoke(
            app, ["tickets-sync", "--org", str(org_id), "--json", "--state-dir", str(state)]
        )
    try:
        assert answer.exit_code == 1, answer.output
        body = json.loads(answer.output)
        assert body["checked"] == 3 and body["not_planned"] == [str(declined)] and body["completed"] == []
        assert body["gone"] == [str(lost)]
        error = "tracker 'gh-old' (github): the token was refused (401); check the token and its scopes"
        assert body["errors"] == [error]
        with Session(engine) as session:
            scope(session, org_id)
            row = session.get(Recommendation, declined)
            assert row is not None and row.status == "dismissed"
            assert row.dismissal_reason == "ticket closed as not planned"
            still = session.get(Recommendation, lost)
            assert still is not None and still.status == "active"
            tickets_now = {t.recommendation_id: t.state for t in session.query(RecommendationTicketRow)}
            assert tickets_now == {declined: "not_planned", lost: "gone", stuck: "open"}
            errors = {t.name: t.last_sync_error for t in session.query(TicketTrackerRow)}
            assert errors == {"gh": None, "gh-old": error}
    finally:
        with Session(engine) as session:
            session.execute(delete(Organization).where(Organization.id == org_id))
            session.commit()
