"""``cloudoptima recommendations …`` (#22): list by lifecycle state, accept/snooze/dismiss/false-positive/reopen
and history from a shell, with the service's refusals naming the option; the clock is pinned with ``--now``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.storage.models import AuditLog, Organization, Recommendation, User
from cloudoptima.storage.models.recommendation_transitions import RecommendationTransitionRow
from cloudoptima_cli.app import app

NOW = "2026-05-04T09:00:00"


@pytest.fixture
def seeded(engine: Engine) -> Iterator[tuple[uuid.UUID, str, uuid.UUID, uuid.UUID]]:
    with Session(engine) as session:
        org = Organization(name=f"cli-recs-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
        session.add(User(organization_id=org.id, email=email, password_hash="-", role="engineer"))
        recs = [
            Recommendation(
                organization_id=org.id, fingerprint=f"fp-{i}", rule_id="idle_vm", provider="aws",
                title=f"stop i-{i}", category="compute", risk_level="low", resource_ids=[f"i-{i}"],
                affected_resources=[], actions=[], status="active", estimated_savings_monthly=Decimal("9.00"),
                priority=Decimal(1),
            )
            for i in (1, 2)
        ]  # fmt: skip
        session.add_all(recs)
        session.commit()
        ids = (org.id, email, recs[0].id, recs[1].id)
    yield ids
    with Session(engine) as session:
        for model in (AuditLog, RecommendationTransitionRow, Recommendation, User):
            session.execute(delete(model).where(model.organization_id == ids[0]))
        session.execute(delete(Organization).where(Organization.id == ids[0]))
        session.commit()


def test_the_lifecycle_from_a_shell(
    seeded: tuple[uuid.UUID, str, uuid.UUID, uuid.UUID],
    engine: Engine,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    org, email, first, second = seeded
    common = ["--org", str(org), "--now", NOW, "--state-dir", str(tmp_path / "state")]

    def run(*args: str) -> tuple[int, str]:
        clock = [] if args[0] == "history" else common[2:4]
        answer = CliRunner().invoke(app, ["recommendations", *args, *common[:2], *clock, *common[4:]])
        return answer.exit_code, " ".join(answer.output.split())

    code, out = run("accept", str(first), "--owner", email, "--due", "2026-05-03")
    assert (code, out) == (1, "error: --due: 2026-05-03 is before today (2026-05-04)")
    code, out = run("accept", str(first), "--owner", "nobody@example.com", "--due", "2026-06-01")
    assert code == 1 and "--owner: 'nobody@example.com' is not a user of the organisation" in out
    code, out = run("accept", str(first), "--owner", email.upper(), "--due", "2026-06-01")
    assert (code, out) == (0, f"{first}: accepted, owner {email}, due 2026-06-01")
    code, out = run("snooze", str(second), "--until", "2026-05-10T00:00:00+00:00", "--reason", "freeze")
    assert (code, out) == (0, f"{second}: snoozed, until 2026-05-10T00:00:00+00:00")
    code, out = run("reopen", str(second))
    assert (code, out) == (0, f"{second}: open")
    code, out = run("reopen", str(second))
    assert code == 1 and "cannot reopen a recommendation that is 'active'" in out
    code, out = run("dismiss", str(second), "--reason", " ")
    assert (code, out) == (1, "error: --reason: must not be blank")

    code, out = run("list", "--owner", email, "--json")
    listed = json.loads(out)["recommendations"]
    assert [(r["id"], r["owner"], r["due_date"]) for r in listed] == [(str(first), email, "2026-06-01")]
    assert json.loads(run("list", "--overdue", "--json")[1])["recommendations"] == []
    late = ["list", "--overdue", "--json", "--org", str(org), "--now", "2026-06-02T00:00:00"]
    answer = CliRunner().invoke(app, ["recommendations", *late, "--state-dir", str(tmp_path / "state")])
    assert [r["id"] for r in json.loads(answer.output)["recommendations"]] == [str(first)]
    code, out = run("list", "--status", "active", "--overdue")
    assert (code, out) == (
        1,
        "error: --overdue: only accepted recommendations have a due date, not status='active'",
    )
    code, out = run("list", "--status", "bogus")
    assert code == 1 and out.startswith("error: --status: 'bogus' is not one of open, active")

    code, out = run("false-positive", str(second), "--reason", "batch host")
    assert (code, out) == (0, f"{second}: false_positive")
    code, out = run("history", str(second), "--json")
    steps = [(h["from"], h["to"], h["reason"]) for h in json.loads(out)["history"]]
    assert steps == [
        ("active", "snoozed", "freeze"),
        ("snoozed", "active", None),
        ("active", "false_positive", "batch host"),
    ]
    code, out = run("history", str(uuid.uuid4()))
    assert code == 1 and "not found" in out
    with Session(engine) as session:
        vias = session.scalars(
            select(AuditLog.details["via"].astext).where(
                AuditLog.organization_id == org, AuditLog.action.like("recommendation.%")
            )
        ).all()
    assert vias and set(vias) == {"cli"}
