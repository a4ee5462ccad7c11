"""Semantic memory of an organisation: past anomalies, recommendations and runbook entries in pgvector.

Contract:
- Every statement is filtered by the store's organisation: no call can read or write another one's items.
- ``remember(kind, ref_id, text, metadata)`` embeds ``text`` and upserts the item ``(org, kind, ref_id)``;
  ``remember_many`` does the same for a batch with one embedding call. Kinds: anomaly, recommendation,
  runbook (the table refuses others).
- ``recall(query, kinds, limit, exclude_ref)`` returns the nearest items by cosine similarity (1 is the
  same direction), best first; ``min_similarity`` drops weaker matches.
- ``index_runbooks(entries)`` stores ``(slug, text)`` pairs as runbook items and removes runbook items whose
  slug is no longer given, so the memory follows the corpus.
- The caller owns the transaction (nothing here commits).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.services.embeddings import Embedder

MAX_TEXT = 4000


class MemoryKind(StrEnum):
    ANOMALY = "anomaly"
    RECOMMENDATION = "recommendation"
    RUNBOOK = "runbook"


@dataclass(frozen=True)
class MemoryItem:
    """One recalled item and how similar it is to the query."""

    kind: MemoryKind
    ref_id: str
    text: str
    similarity: float
    metadata: dict[str, Any] = field(default_factory=dict)


def _literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


class SemanticMemory:
    """pgvector memory of one organisation over one session (see module contract)."""

    def __init__(self, session: Session, organization_id: uuid.UUID, embedder: Embedder) -> None:
        self._session = session
        self._org = organization_id
        self._embedder = embedder

    def remember(
        self, kind: MemoryKind, ref_id: str, content: str, metadata: dict[str, Any] | None = None
    ) -> None:
        self.remember_many(kind, [(ref_id, content, metadata or {})])

    def remember_many(self, kind: MemoryKind, items: Sequence[tuple[str, str, dict[str, Any]]]) -> int:
        """Upsert items of one kind; returns how many were written."""
        if not items:
            return 0
        texts = [content[:MAX_TEXT] for _, content, _ in items]
        vectors = self._embedder.embed(texts)
        statement = text(
            "INSERT INTO memory_items (organization_id, kind, ref_id, text, embedding, metadata) "
            "VALUES (:org, :kind, :ref, :text, CAST(:vec AS vector), CAST(:meta AS jsonb)) "
            "ON CONFLICT (organization_id, kind, ref_id) DO UPDATE SET text = EXCLUDED.text, "
            "embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, updated_at = now()"
        )
        params = [
            {
                "org": self._org,
                "kind": MemoryKind(kind).value,
                "ref": ref_id,
                "text": content,
                "vec": _literal(vector),
                "meta": json.dumps(metadata, default=str),
            }
            for (ref_id, _, metadata), content, vector in zip(items, texts, vectors, strict=True)
        ]
        self._session.execute(statement, params)
        return len(params)

    def recall(
        self,
        query: str,
        *,
        kinds: Iterable[MemoryKind] | None = None,
        limit: int = 5,
        exclude_ref: str | None = None,
        min_similarity: float = 0.0,
    ) -> list[MemoryItem]:
        """Nearest items to ``query`` (see module contract)."""
        wanted = [MemoryKind(k).value for k in (kinds or list(MemoryKind))]
        (vector,) = self._embedder.embed([query])
        rows = self._session.execute(
            text(
                "SELECT kind, ref_id, text, metadata, 1 - (embedding <=> CAST(:vec AS vector)) AS similarity "
                "FROM memory_items WHERE organization_id = :org AND kind = ANY(:kinds) "
                "AND (CAST(:exclude AS text) IS NULL OR ref_id <> CAST(:exclude AS text)) "
                "ORDER BY embedding <=> CAST(:vec AS vector) LIMIT :limit"
            ),
            {
                "vec": _literal(vector),
                "org": self._org,
                "kinds": wanted,
                "exclude": exclude_ref,
                "limit": max(1, min(limit, 50)),
            },
        ).all()
        return [
            MemoryItem(
                kind=MemoryKind(row.kind),
                ref_id=str(row.ref_id),
                text=str(row.text),
                similarity=round(float(row.similarity), 4),
                metadata=dict(row.metadata or {}),
            )
            for row in rows
            if float(row.similarity) >= min_similarity
        ]

    def count(self, kind: MemoryKind | None = None) -> int:
        return int(
            self._session.execute(
                text(
                    "SELECT count(*) FROM memory_items WHERE organization_id = :org "
                    "AND (CAST(:kind AS text) IS NULL OR kind = CAST(:kind AS text))"
                ),
                {"org": self._org, "kind": None if kind is None else MemoryKind(kind).value},
            ).scalar_one()
        )

    def index_runbooks(self, entries: Sequence[tuple[str, str]]) -> int:
        """Store runbook entries ``(slug, text)`` and drop runbook items not given (see module contract)."""
        slugs = [slug for slug, _ in entries]
        self._session.execute(
            text(
                "DELETE FROM memory_items WHERE organization_id = :org AND kind = 'runbook' "
                "AND NOT (ref_id = ANY(:slugs))"
            ),
            {"org": self._org, "slugs": slugs},
        )
        return self.remember_many(
            MemoryKind.RUNBOOK, [(slug, body, {"slug": slug}) for slug, body in entries]
        )
