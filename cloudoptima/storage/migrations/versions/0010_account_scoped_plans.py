"""No column statistics on ``organization_id`` for the tables collection writes.

With statistics, an organisation that grew since the last ANALYZE — a new one being onboarded, say — is
estimated at about one row, and org-scoped statements over it are planned as if it were empty (measured:
30 M index fetches to collect 300 accounts into a second organisation, against 0.1 M for the first).
Without them the planner uses its default equality selectivity, as for a never-analysed table.

Existing statistics of the column are cleared (``pg_clear_attribute_stats``, Postgres 18; skipped on
older servers). New ``cost_data`` partitions get the same setting (``storage.partitions``). Account-scoped
statements are also written so that only the account indexes fit them (``cost_loader._account_scope``).

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


def downgrade() -> None:
    _set_statistics(None)
