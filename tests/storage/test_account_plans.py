"""Account-scoped statements keep an account-sized plan when an organisation grew after the last ANALYZE
(migration 0010): collection must not scan every row of the organisation for each account it loads."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.storage.models import Organization
from cloudoptima.storage.partitions import ensure_cost_partitions

MONTH = date(2031, 3, 1)
PARTITION = "cost_data_y2031m03"


def _organisation(session: Session) -> uuid.UUID:
    org = Organization(name=f"plans-{uuid.uuid4().hex[:6]}", subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    return org.id


def _load(session: Session, org: uuid.UUID, accounts: int, days: int) -> list[uuid.UUID]:
    """``days`` daily rows per account in March 2031, into ``cost_data`` and ``cost_daily``."""
    ids = [uuid.uuid4() for _ in range(accounts)]
    params = {"org": org, "ids": ids, "days": days}
    session.execute(
        text(
            """
            INSERT INTO cost_data (id, organization_id, cloud_account_id, provider, provider_name,
                billing_account_id, billing_currency, charge_category, billed_cost,
                charge_period_start, charge_period_end, billing_period_start, billing_period_end)
            SELECT gen_random_uuid(), :org, a, 'aws', 'AWS', '1', 'USD', 'Usage', 1,
                   timestamptz '2031-03-01 00:00+00' + d * interval '1 day',
                   timestamptz '2031-03-01 00:00+00' + (d + 1) * interval '1 day',
                   timestamptz '2031-03-01 00:00+00', timestamptz '2031-04-01 00:00+00'
            FROM unnest(CAST(:ids AS uuid[])) AS a, generate_series(0, :days - 1) AS d
            """
        ),
        params,
    )
    session.execute(
        text(
            """
            INSERT INTO cost_daily (organization_id, usage_date, cloud_account_id, provider, billing_currency,
                tag_values, billed_cost, effective_cost, list_cost, row_count)
            SELECT :org, date '2031-03-01' + d, a, 'aws', 'USD', '{}'::jsonb, 1, 1, 1, 1
            FROM unnest(CAST(:ids AS uuid[])) AS a, generate_series(0, :days - 1) AS d
            """
        ),
        params,
    )
    return ids


def _plan(session: Session, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    raw = session.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"), params).scalar()
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def test_a_grown_organisation_reads_one_account_through_the_account_index(db_session: Session) -> None:
    session = db_session
    assert ensure_cost_partitions(session.connection(), [MONTH]) in ([PARTITION], [])
    targets = dict(
        session.execute(
            text(
                "SELECT attrelid::regclass::text, attstattarget FROM pg_attribute "
                "WHERE attname = 'organization_id' AND attrelid::regclass::text = ANY(:t)"
            ),
            {"t": [PARTITION, "cost_daily", "resources", "iam_principals"]},
        ).all()
    )
    assert targets == {PARTITION: 0, "cost_daily": 0, "resources": 0, "iam_principals": 0}

    big = _organisation(session)
    _load(session, big, accounts=200, days=20)
    session.execute(text(f"ANALYZE {PARTITION}, cost_daily"))
    assert not session.execute(
        text("SELECT 1 FROM pg_stats WHERE tablename = ANY(:t) AND attname = 'organization_id'"),
        {"t": [PARTITION, "cost_daily"]},
    ).all()
    # A second organisation loads after the ANALYZE: the statistics know nothing of it.
    new = _organisation(session)
    account = _load(session, new, accounts=200, days=20)[0]
    window = {"org": new, "account": account, "t0": "2031-03-05", "t1": "2031-03-12"}

    for sql in (
        "SELECT count(*) FROM cost_data WHERE organization_id = :org AND cloud_account_id = :account"
        " AND charge_period_start >= CAST(:t0 AS timestamptz) AND charge_period_start < CAST(:t1 AS timestamptz)",
        "SELECT count(*) FROM cost_daily WHERE organization_id = :org AND cloud_account_id = :account"
        " AND usage_date >= CAST(:t0 AS date) AND usage_date < CAST(:t1 AS date)",
    ):
        nodes = _nodes(_plan(session, sql, window))
        scans = [node for node in nodes if "Index Name" in node]
        assert scans and all(
            "cloud_account_id" in node["Index Name"] or "account" in node["Index Name"] for node in scans
        ), sql
        # Only the account's 7 days are visited, not the 4,000 rows of the organisation.
        assert all(node.get("Actual Rows", 0) <= 7 for node in scans), (sql, scans)
        assert sum(node.get("Rows Removed by Filter", 0) for node in nodes) == 0, sql
