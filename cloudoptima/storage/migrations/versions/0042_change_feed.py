"""A change feed for the gateway's list cache (#23): committed writes to the tables the cached list routes read
notify channel ``cloudoptima_data`` with the organisation's id.

- One statement-level ``AFTER`` trigger per table and operation (transition tables: one ``pg_notify`` per
  distinct organisation a statement touched, however many rows; PostgreSQL folds equal notifications of one
  transaction into one and delivers them only if it commits). ``TRUNCATE`` sends ``*`` (every organisation).
- The tables: ``allocation_dimensions``, ``anomalies``, ``budgets``, ``cloud_accounts``,
  ``cost_allocated_totals`` (a budget scoped to allocation values reads them), ``recommendations``,
  ``resources``, ``users`` (by ``organization_id``) and ``organizations`` (by ``id``) — what
  ``cloudoptima_gateway.list_cache.CACHED_LISTS`` read besides ``cost_daily``, whose changes bump the cost
  version instead (``tests/gateway/test_list_cache.py`` checks that the routes read nothing else).

Revision ID: 0042_change_feed
"""

from alembic import op

revision = "0042_change_feed"
down_revision = "0041_resource_change_interval"
branch_labels = None
depends_on = None

CHANNEL = "cloudoptima_data"
TABLES = {
    "allocation_dimensions": "organization_id",
    "anomalies": "organization_id",
    "budgets": "organization_id",
    "cloud_accounts": "organization_id",
    "cost_allocated_totals": "organization_id",
    "recommendations": "organization_id",
    "resources": "organization_id",
    "users": "organization_id",
    "organizations": "id",
}
_OPERATIONS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    "update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
}


def _function(column: str, operation: str) -> str:
    rows = {"insert": ["new_rows"], "update": ["old_rows", "new_rows"], "delete": ["old_rows"]}[operation]
    union = " UNION ".join(f"SELECT {column} FROM {name}" for name in rows)
    return f"""
    CREATE FUNCTION cloudoptima_changed_{column}_{operation}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE org uuid;
    BEGIN
      FOR org IN {union} LOOP
        PERFORM pg_notify('{CHANNEL}', coalesce(org::text, '*'));
      END LOOP;
      RETURN NULL;
    END $$;
    """


def upgrade() -> None:
    for column in sorted(set(TABLES.values())):
        for operation in _OPERATIONS:
            op.execute(_function(column, operation))
    op.execute(
        f"""
        CREATE FUNCTION cloudoptima_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('{CHANNEL}', '*');
          RETURN NULL;
        END $$;
        """
    )
    for table, column in TABLES.items():
        for operation, (event, referencing) in _OPERATIONS.items():
            op.execute(
                f"CREATE TRIGGER cloudoptima_changed_{operation} AFTER {event} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION cloudoptima_changed_{column}_{operation}()"
            )
        op.execute(
            f"CREATE TRIGGER cloudoptima_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cloudoptima_truncated()"
        )


def downgrade() -> None:
    for table in TABLES:
        for operation in (*_OPERATIONS, "truncated"):
            name = "cloudoptima_truncated" if operation == "truncated" else f"cloudoptima_changed_{operation}"
            op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION cloudoptima_truncated()")
    for column in sorted(set(TABLES.values())):
        for operation in _OPERATIONS:
            op.execute(f"DROP FUNCTION cloudoptima_changed_{column}_{operation}()")
