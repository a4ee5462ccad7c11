"""pgvector semantic memory with the bundled MiniLM model: runbooks, past incidents, organisation scoping."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from cloudoptima.services.embeddings import DIMENSIONS, LocalEmbedder
from cloudoptima.services.semantic_memory import MemoryKind, SemanticMemory
from cloudoptima.storage.models import Anomaly, Organization
from cloudoptima_agents.root_cause import explain_and_store
from cloudoptima_agents.runbook import load_runbooks


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


def _org(session: Session) -> uuid.UUID:
    org = Organization(name="memory", subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    return org.id


def test_runbook_recall_finds_the_right_entry_and_stays_in_its_organisation(
    db_session: Session, embedder: LocalEmbedder
) -> None:
    entries = [(e.slug, e.text()) for e in load_runbooks()]
    assert 10 <= len(entries) <= 20
    mine, other = _org(db_session), _org(db_session)
    memory = SemanticMemory(db_session, mine, embedder)
    assert memory.index_runbooks(entries) == len(entries)
    assert memory.index_runbooks(entries[1:]) == len(entries) - 1, "re-indexing upserts"
    assert memory.count(MemoryKind.RUNBOOK) == len(entries) - 1, "a removed entry is dropped"
    for query, expected in (
        ("a disk that nothing is attached to anymore", "unattached-volumes"),
        ("old backups of volumes that no longer exist", "orphaned-snapshots"),
        ("servers doing nothing all day, cpu near zero", "idle-vms"),
        ("buy a savings plan for steady usage", "commitment-coverage"),
    ):
        found = memory.recall(query, kinds=[MemoryKind.RUNBOOK], limit=3)
        assert found[0].ref_id == expected, (query, [f.ref_id for f in found])
        assert 0 < found[0].similarity <= 1
    assert SemanticMemory(db_session, other, embedder).recall("idle", limit=5) == []
    vector = embedder.embed(["x"])[0]
    assert len(vector) == DIMENSIONS and abs(sum(v * v for v in vector) - 1) < 1e-4


def test_explaining_remembers_incidents_and_recalls_similar_ones(
    db_session: Session, sandbox_org: tuple[uuid.UUID, str], embedder: LocalEmbedder
) -> None:
    org = sandbox_org[0]
    rows = db_session.query(Anomaly).filter(Anomaly.organization_id == org).order_by(Anomaly.start_date).all()
    assert len(rows) >= 2
    memory = SemanticMemory(db_session, org, embedder)
    for row in rows:
        explain_and_store(db_session, org, row.id, memory=memory)
    assert memory.count(MemoryKind.ANOMALY) == len(rows)
    again = explain_and_store(db_session, org, rows[-1].id, memory=memory)
    similar = again.evidence["similar"]
    assert similar and all(s["ref_id"] != str(rows[-1].id) for s in similar)
    assert similar[0]["ref_id"] in {str(r.id) for r in rows}
