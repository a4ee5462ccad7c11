"""The FinOps runbook corpus the agents cite: short markdown entries with a title and keyword tags.

Contract:
- ``load_runbooks()`` reads every ``*.md`` beside this module, sorted by slug (the file name without
  ``.md``); each has a ``---`` header with ``title:`` and ``tags:`` (comma separated) and a body.
- ``match(words, limit)`` ranks entries by how many of their tags occur in ``words`` (a lower-cased text),
  ties by slug; entries with no matching tag are not returned. It is the offline fallback for semantic
  recall.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class RunbookEntry:
    slug: str
    title: str
    tags: tuple[str, ...]
    body: str

    def text(self) -> str:
        return f"{self.title}\n{self.body}"


def _parse(path: Path) -> RunbookEntry:
    raw = path.read_text(encoding="utf-8")
    _, header, body = raw.split("---", 2)
    fields = {}
    for line in header.strip().splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    tags = tuple(t.strip().lower() for t in fields.get("tags", "").split(",") if t.strip())
    return RunbookEntry(slug=path.stem, title=fields["title"], tags=tags, body=" ".join(body.split()))


@cache
def load_runbooks() -> tuple[RunbookEntry, ...]:
    """Every runbook entry, sorted by slug."""
    return tuple(_parse(p) for p in sorted(HERE.glob("*.md")))


def match(words: str, limit: int = 3) -> list[RunbookEntry]:
    """Entries whose tags occur in ``words`` (see module contract)."""
    text = words.lower()
    scored = []
    for entry in load_runbooks():
        score = sum(1 for tag in entry.tags if tag in text)
        if score:
            scored.append((-score, entry.slug, entry))
    return [entry for _, _, entry in sorted(scored)[:limit]]
