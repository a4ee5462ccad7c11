"""Account-scoped statements keep an account-sized plan while an organisation grows.

Collection reads and replaces one account's rows (``organization_id = … AND cloud_account_id = … AND day
range``). With column statistics on ``organization_id``, an organisation that grew since the last
ANALYZE — a new one being onboarded, say — is estimated at about one row, and the planner then picks the
smallest index on ``organization_id`` and filters every row of the organisation: each account's load
scanned all the accounts loaded before it (measured: 30 M index fetches to collect 300 accounts into a
second organisation, against 0.1 M for the first).

- ``organization_id`` gets no column statistics on the tables collection writes (the planner uses its
  default equality selectivity, as for a never-analysed table); existing statistics of it are cleared
  (``pg_clear_attribute_stats``, Postgres 18; skipped on older servers, where the next ANALYZE of a
  table that has none yet does not add them). New ``cost_data`` partitions get the same setting
  (``storage.partitions``).
- The account indexes lead with the organisation, so one index scan serves the whole condition:
  ``cost_data (organization_id, cloud_account_id, charge_period_start)`` and ``cost_daily
  (organization_id, cloud_account_id, usage_date)`` replace the ``(cloud_account_id, …)`` ones.

Revision ID: 0010_account_scoped_plans
"""

from alembic import op
from sqlalchemy import text

revision = "0010_account_scoped_plans"
down_revision = "0009_ingest_rollup_indexes"
branch_labels = None
depends_on = None

TABLES = ("cost_data", "cost_daily", "resources", "iam_principals")


def _relations(table: str) -> list[str]:
    """``table`` and, for the partitioned ``cost_data``, each of its partitions."""
    rows = op.get_bind().execute(
        text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = CAST(:t AS regclass)"),
        {"t": table},
    )
    return [table, *(row[0] for row in rows)]


def _set_statistics(target: int | None) -> None:
    value = "-1" if target is None else str(target)  # -1: the default target (every version)
    bind = op.get_bind()
    clear = target == 0 and bind.execute(text("SELECT to_regproc('pg_clear_attribute_stats')")).scalar()
    for table in TABLES:
        for relation in _relations(table):
            op.execute(f"ALTER TABLE ONLY {relation} ALTER COLUMN organization_id SET STATISTICS {value}")
            if clear:
                for inherited in (False, True):
                    bind.execute(
                        text(
                            "SELECT pg_clear_attribute_stats(current_schema(), :relation, "
                            "'organization_id', :inherited)"
                        ),
                        {"relation": relation, "inherited": inherited},
                    )


def upgrade() -> None:
    _set_statistics(0)
    op.execute("DROP INDEX IF EXISTS ix_cost_data_account_time")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_cost_data_org_account_time "
        "ON cost_data (organization_id, cloud_account_id, charge_period_start)"
    )
    op.execute("DROP INDEX IF EXISTS ix_cost_daily_account_day")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_cost_daily_org_account_day "
        "ON cost_daily (organization_id, cloud_account_id, usage_date)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_cost_daily_org_account_day")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_cost_daily_account_day ON cost_daily (cloud_account_id, usage_date)"
    )
    op.execute("DROP INDEX IF EXISTS ix_cost_data_org_account_time")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_cost_data_account_time ON cost_data (cloud_account_id, charge_period_start)"
    )
    _set_statistics(None)
