"""Keyset pages of recommendations (``GET /v1/recommendations?limit=&cursor=``).

Contract: the rows ``RecommendationService.list`` selects (same filters; ``due_before`` keeps those due before
that day, exclusive), in the order ``sort_by`` names with
``fingerprint`` and then ``id`` breaking ties, so the order is total. A page holds the first ``limit`` rows
strictly after the cursor's row key; ``next_cursor`` (opaque, URL-safe) is that page's last row key when more
rows follow, else None. Keyset, not offset: a row inserted or removed before the cursor never shifts or repeats
the rest. A cursor is bound to its ``sort_by``; a cursor that is not one this module made, or that was made
for another order, raises :class:`CursorError` (the API answers 422 naming ``cursor``).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.models import Recommendation

_RISK_ORDER = {"low": 0, "medium": 1, "high": 2}

SORT_KEYS: dict[str, Callable[[Recommendation], Any]] = {
    "priority": lambda r: -(r.priority or Decimal(0)),
    "savings": lambda r: -(r.estimated_savings_monthly or Decimal(0)),
    "age": lambda r: r.created_at,
    "risk": lambda r: _RISK_ORDER.get(r.risk_level or "", 3),
}


class CursorError(ValueError):
    """The cursor is not one this listing returned for this order."""


@dataclass(frozen=True)
class RecommendationPage:
    rows: list[Recommendation]
    next_cursor: str | None
    total: int
    """Every row the filters select (all pages)."""


def _key(sort_by: str, row: Recommendation) -> tuple[Any, str, str]:
    return SORT_KEYS[sort_by](row), row.fingerprint or "", str(row.id)


def _encode(sort_by: str, key: tuple[Any, str, str]) -> str:
    value = key[0]
    encoded = value.isoformat() if isinstance(value, datetime) else str(value)
    raw = json.dumps({"s": sort_by, "k": [encoded, key[1], key[2]]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(sort_by: str, cursor: str) -> tuple[Any, str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        order, (value, fingerprint, row_id) = str(data["s"]), data["k"]
        if order != sort_by:
            raise CursorError(f"cursor was made for sort_by={order}; repeat the same sort_by or drop it")
        if sort_by == "age":
            decoded: Any = datetime.fromisoformat(value)
        elif sort_by == "risk":
            decoded = int(value)
        else:
            decoded = Decimal(value)
        return decoded, str(fingerprint), str(row_id)
    except CursorError:
        raise
    except (ValueError, KeyError, TypeError, InvalidOperation, binascii.Error) as exc:
        raise CursorError("cursor is not a cursor this listing returned") from exc


def recommendation_page(
    service: RecommendationService,
    *,
    status: RecommendationStatus | None,
    category: str | None = None,
    risk_level: str | None = None,
    min_savings: Decimal | None = None,
    sort_by: str = "priority",
    limit: int = 100,
    cursor: str | None = None,
    owner_user_id: uuid.UUID | None = None,
    due_before: date | None = None,
) -> RecommendationPage:
    """One page (see the module contract)."""
    if sort_by not in SORT_KEYS:
        raise ValueError(f"sort_by must be one of {', '.join(SORT_KEYS)}")
    after = _decode(sort_by, cursor) if cursor else None
    rows = service.list(
        status=status,
        category=category,
        risk_level=risk_level,
        min_savings=min_savings,
        sort_by=sort_by,
        limit=1_000_000,
        owner_user_id=owner_user_id,
    )
    if due_before is not None:
        rows = [r for r in rows if r.due_date is not None and r.due_date < due_before]
    keyed = sorted(((_key(sort_by, r), r) for r in rows), key=lambda pair: pair[0])
    following = [pair for pair in keyed if after is None or pair[0] > after]
    page = following[:limit]
    next_cursor = _encode(sort_by, page[-1][0]) if len(following) > limit else None
    return RecommendationPage(rows=[r for _, r in page], next_cursor=next_cursor, total=len(rows))
