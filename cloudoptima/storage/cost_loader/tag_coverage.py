"""The tag coverage rollups (``cost_tag_coverage_daily``, ``cost_tag_resource_days``, migration 0034): kept with
``cost_daily`` so tag coverage answers without reading cost rows.

Contract:
- :func:`key_mask` is the one reading of a tag set against a policy: bit ``i`` set when the tags carry a compliant
  value of ``policy.required[i]`` (``RequiredTag.value_in``: aliases, case variants, allowed values; empty
  values absent). Tags that are not a JSON object read as no tags.
- :func:`refresh_tag_coverage` recomputes both tables for ``[start, end)`` (UTC days of
  ``charge_period_start``) of one organisation — with ``account = (id_or_None,)`` only that cloud account's
  rows (the scope ``cost_daily`` uses, so concurrent loads of different accounts never touch the same rows) —
  from ``cost_data``, with the organisation's *current* tag policy. When the masks stored so far were computed
  for other required keys (``cost_tag_coverage_state``; none stored counts as other), it rebuilds the whole
  organisation instead (:func:`rebuild_tag_coverage`), so the tables never mix two policies. Returns the
  coverage rows written.
- :func:`rebuild_tag_coverage` recomputes every month holding cost rows and records the policy's fingerprint.
- Nothing is kept for an organisation whose policy has no required keys (its loads skip the refresh; a rebuild
  empties the tables and forgets the state), so :func:`coverage_is_current` is then False and readers answer
  from the cost rows (no keys: only totals and resource counts).
- :func:`coverage_is_current` tells readers whether the stored masks are those of ``policy``; when not, they
  answer from the cost rows.
- All on the caller's connection and transaction (the caller commits); only this organisation's rows are read
  or written. Resource presence is per UTC day: a resource carries a key over a period when any of its cost
  rows in the period (in the currency) does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from cloudoptima.domain.tag_policy import TagPolicy
from cloudoptima.storage.cost_loader.daily_rollup import account_scope


def key_mask(policy: TagPolicy, tags: Mapping[str, Any] | None) -> int:
    """The bits of the required keys ``tags`` carry (bit ``i``: ``policy.required[i]``)."""
    mask = 0
    for index, rule in enumerate(policy.required):
        if rule.value_in(tags) is not None:
            mask |= 1 << index
    return mask


def full_mask(policy: TagPolicy) -> int:
    """The mask of a tag set carrying every required key."""
    return (1 << len(policy.required)) - 1


def fingerprint(policy: TagPolicy) -> str:
    """What the masks depend on: the required keys in order with their aliases and allowed values."""
    rules = [[r.key, list(r.aliases), r.allowed_values and list(r.allowed_values)] for r in policy.required]
    return hashlib.sha256(json.dumps(rules, separators=(",", ":")).encode()).hexdigest()


def stored_policy(connection: Connection, organization_id: uuid.UUID) -> TagPolicy:
    """The organisation's tag policy as stored in its settings (no rules when none)."""
    settings = connection.execute(
        text("SELECT settings FROM organizations WHERE id = :org"), {"org": organization_id}
    ).scalar()
    return TagPolicy.of(settings if isinstance(settings, Mapping) else None)


def coverage_is_current(connection: Connection, organization_id: uuid.UUID, policy: TagPolicy) -> bool:
    """Whether the stored masks were computed for ``policy``'s required keys."""
    stored = connection.execute(
        text("SELECT rules_fingerprint FROM cost_tag_coverage_state WHERE organization_id = :org"),
        {"org": organization_id},
    ).scalar()
    return stored == fingerprint(policy)


def _lock(connection: Connection, organization_id: uuid.UUID, *, shared: bool) -> None:
    """Transaction lock of the organisation's coverage rollups: shared by refreshes (loads of different
    accounts write disjoint rows), exclusive for a whole rebuild."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    connection.execute(
        text(f"SELECT {function}(hashtext(:name))"), {"name": f"tag-coverage:{organization_id}"}
    )


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _refresh(
    connection: Connection,
    organization_id: uuid.UUID,
    start: date,
    end_exclusive: date,
    policy: TagPolicy,
    account: tuple[uuid.UUID | None, ...],
) -> int:
    params: dict[str, Any] = {
        "org": organization_id,
        "d0": start,
        "d1": end_exclusive,
        "t0": _utc(start),
        "t1": _utc(end_exclusive),
    }
    rollup_scope, data_scope = "organization_id = :org", "c.organization_id = :org"
    if account:
        params["account"] = account[0]
        rollup_scope, data_scope = account_scope("", account[0]), account_scope("c.", account[0])
    for table in ("cost_tag_coverage_daily", "cost_tag_resource_days"):
        connection.execute(
            text(f"DELETE FROM {table} WHERE {rollup_scope} AND usage_date >= :d0 AND usage_date < :d1"),
            params,
        )
    staging = f"tag_coverage_{uuid.uuid4().hex}"
    connection.execute(
        text(
            f"""
            CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS
            SELECT (c.charge_period_start AT TIME ZONE 'UTC')::date AS usage_date, c.cloud_account_id,
                COALESCE(c.sub_account_id, c.billing_account_id) AS account, c.service_name,
                c.billing_currency, c.resource_id, COALESCE(c.tags, '{{}}'::jsonb) AS tags,
                sum(c.billed_cost) AS billed_cost, count(*) AS row_count
            FROM cost_data c
            WHERE {data_scope} AND c.charge_period_start >= :t0 AND c.charge_period_start < :t1
            GROUP BY 1, 2, 3, 4, 5, 6, 7
            """
        ),
        params,
    )
    texts: list[str] = []
    masks: list[int] = []
    if policy.required:
        for tags_text in connection.execute(text(f"SELECT DISTINCT tags::text FROM {staging}")).scalars():
            loaded = json.loads(tags_text)
            texts.append(tags_text)
            masks.append(key_mask(policy, loaded if isinstance(loaded, dict) else None))
    params["tags"], params["masks"] = texts, masks
    # Every tag set has a mask (0 without required keys): the LEFT JOIN only spares the join when there are none.
    mapping = (
        "LEFT JOIN unnest(CAST(:tags AS text[]), CAST(:masks AS bigint[])) AS m(tags, mask) "
        "ON s.tags = CAST(m.tags AS jsonb)"
    )
    written = connection.execute(
        text(
            f"""
            INSERT INTO cost_tag_coverage_daily (organization_id, usage_date, cloud_account_id, account,
                service_name, billing_currency, key_mask, billed_cost, row_count)
            SELECT CAST(:org AS uuid), s.usage_date, s.cloud_account_id, s.account, s.service_name,
                s.billing_currency, COALESCE(m.mask, 0), sum(s.billed_cost), sum(s.row_count)
            FROM {staging} s {mapping}
            GROUP BY 2, 3, 4, 5, 6, 7
            """
        ),
        params,
    )
    connection.execute(
        text(
            f"""
            INSERT INTO cost_tag_resource_days (organization_id, usage_date, cloud_account_id, billing_currency,
                resource_id, key_mask, billed_cost)
            SELECT CAST(:org AS uuid), s.usage_date, s.cloud_account_id, s.billing_currency, s.resource_id,
                bit_or(COALESCE(m.mask, 0)), sum(s.billed_cost)
            FROM {staging} s {mapping}
            WHERE s.resource_id IS NOT NULL
            GROUP BY 2, 3, 4, 5
            """
        ),
        params,
    )
    connection.execute(text(f"DROP TABLE {staging}"))
    return int(written.rowcount or 0)  # type: ignore[attr-defined]


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def rebuild_tag_coverage(
    connection: Connection, organization_id: uuid.UUID, policy: TagPolicy | None = None
) -> int:
    """Recompute the organisation's coverage rollups month by month with ``policy`` (default: the stored one)
    and record its fingerprint. Returns the coverage rows written."""
    _lock(connection, organization_id, shared=False)
    policy = stored_policy(connection, organization_id) if policy is None else policy
    params = {"org": organization_id}
    for table in ("cost_tag_coverage_daily", "cost_tag_resource_days"):
        connection.execute(text(f"DELETE FROM {table} WHERE organization_id = :org"), params)
    if not policy.required:
        connection.execute(text("DELETE FROM cost_tag_coverage_state WHERE organization_id = :org"), params)
        return 0
    first, last = connection.execute(
        text(
            "SELECT min(charge_period_start AT TIME ZONE 'UTC')::date, "
            "max(charge_period_start AT TIME ZONE 'UTC')::date FROM cost_data WHERE organization_id = :org"
        ),
        params,
    ).one()
    rows = 0
    if first is not None and last is not None:
        month = date(first.year, first.month, 1)
        while month <= last:
            following = _next_month(month)
            rows += _refresh(connection, organization_id, month, following, policy, ())
            month = following
    connection.execute(
        text(
            "INSERT INTO cost_tag_coverage_state (organization_id, rules_fingerprint) VALUES (:org, :fp) "
            "ON CONFLICT (organization_id) DO UPDATE SET rules_fingerprint = EXCLUDED.rules_fingerprint"
        ),
        {"org": organization_id, "fp": fingerprint(policy)},
    )
    return rows


def refresh_tag_coverage(
    connection: Connection,
    organization_id: uuid.UUID,
    start: date,
    end_exclusive: date,
    *,
    account: tuple[uuid.UUID | None, ...] = (),
) -> int:
    """Bring the coverage rollups of ``[start, end_exclusive)`` up to date (see module contract)."""
    if not stored_policy(connection, organization_id).required:
        return 0  # nothing is kept without required keys: loads of such organisations pay nothing
    if coverage_is_current(connection, organization_id, stored_policy(connection, organization_id)):
        _lock(connection, organization_id, shared=True)
        policy = stored_policy(connection, organization_id)
        if coverage_is_current(connection, organization_id, policy):
            return _refresh(connection, organization_id, start, end_exclusive, policy, account)
    return rebuild_tag_coverage(connection, organization_id)
