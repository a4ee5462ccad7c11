"""No column statistics on ``organization_id`` for ``resources`` and ``iam_principals``.

With statistics, an organisation that grew since the last ANALYZE — a new one being onboarded, say — is
estimated at about one row, and an account-scoped statement over it (``organization_id = … AND
cloud_account_id = …``) can be planned through the organisation-only index, filtering every resource of
the organisation for each account. Without them the planner uses its default equality selectivity, and
the ``(organization_id, cloud_account_id, …)`` unique index wins. Existing statistics of the column are
cleared (``pg_clear_attribute_stats``, Postgres 18; skipped on older servers).

The cost tables keep their statistics (the dashboards' organisation-wide plans use them): their
account-scoped statements are written so that only the account indexes fit
(``cost_loader.account_scope``), which holds whatever the statistics say.

Revision ID: 0010_account_scoped_plans
"""

from alembic import op
from sqlalchemy import text

revision = "0010_account_scoped_plans"
down_revision = "0009_ingest_rollup_indexes"
branch_labels = None
depends_on = None

TABLES = ("resources", "iam_principals")


def _relations(table: str) -> list[str]:
    """``table`` and its partitions, if it has any."""
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
