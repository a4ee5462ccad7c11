"""Account-scoped statements keep an account-sized plan whatever the statistics say — none yet (a table
filled in a burst), or an organisation that grew since the last ANALYZE (migration 0010,
``cost_loader.account_scope``): collection must not scan every row of the organisation for each account
it loads."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.storage.cost_loader import account_scope
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
    # Resources and principals have no organisation statistics; the cost tables keep theirs (dashboards).
    assert targets == {PARTITION: None, "cost_daily": None, "resources": 0, "iam_principals": 0}

    def assert_account_sized(org: uuid.UUID, account: uuid.UUID) -> None:
        window = {"org": org, "account": account, "t0": "2031-03-05", "t1": "2031-03-12"}
        scope = account_scope("", account)
        for sql in (
            f"SELECT count(*) FROM cost_data WHERE {scope}"
            " AND charge_period_start >= CAST(:t0 AS timestamptz) AND charge_period_start < CAST(:t1 AS timestamptz)",
            f"SELECT count(*) FROM cost_daily WHERE {scope}"
            " AND usage_date >= CAST(:t0 AS date) AND usage_date < CAST(:t1 AS date)",
        ):
            nodes = _nodes(_plan(session, sql, window))
            scans = [node for node in nodes if "Index Name" in node]
            assert scans and all("account" in node["Index Name"] for node in scans), (sql, scans)
            # Only the account's 7 days are visited, not the 4,000 rows of the organisation.
            assert all(node.get("Actual Rows", 0) <= 7 for node in scans), (sql, scans)
            assert sum(node.get("Rows Removed by Filter", 0) for node in nodes) == 0, sql

    big = _organisation(session)
    first = _load(session, big, accounts=200, days=20)
    assert_account_sized(big, first[-1])  # the new partition has no statistics yet
    session.execute(text(f"ANALYZE {PARTITION}, cost_daily"))
    assert session.execute(
        text("SELECT 1 FROM pg_stats WHERE tablename = ANY(:t) AND attname = 'organization_id'"),
        {"t": [PARTITION, "cost_daily"]},
    ).all()
    # A second organisation loads after the ANALYZE: the statistics know nothing of it or its accounts.
    new = _organisation(session)
    assert_account_sized(new, _load(session, new, accounts=200, days=20)[0])
