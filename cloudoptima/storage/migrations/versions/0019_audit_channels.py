"""Audit log: how each action arrived (``channel``) and who acted (``actor``), with indexes for the filters
of ``GET /v1/audit-logs``.

``channel`` is ``rest``, ``mcp``, ``workflow`` or ``temporal_ui``; rows written before it existed came only
through the REST API (``rest``). ``actor`` is ``user:<id>``, ``api_key:<id>`` or ``system``; older rows get
``user:<user_id>`` when they name a user, else ``system``. Every index starts with the organisation (every
read is one organisation's) and ends with the time, so a filtered page is an index range read; the
keyset order (time, id) has its own.

Revision ID: 0019_audit_channels
"""

from alembic import op

revision = "0019_audit_channels"
down_revision = "0018_execution_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE audit_logs ADD COLUMN channel VARCHAR(16) NOT NULL DEFAULT 'rest'")
    op.execute("ALTER TABLE audit_logs ADD COLUMN actor VARCHAR(128) NOT NULL DEFAULT 'system'")
    op.execute("UPDATE audit_logs SET actor = 'user:' || user_id::text WHERE user_id IS NOT NULL")
    op.execute("DROP INDEX IF EXISTS ix_audit_logs_org_time")
    op.execute("DROP INDEX IF EXISTS ix_audit_logs_action")
    op.execute("CREATE INDEX ix_audit_logs_org_time_id ON audit_logs (organization_id, timestamp, id)")
    op.execute(
        "CREATE INDEX ix_audit_logs_org_action_time ON audit_logs (organization_id, action, timestamp)"
    )
    op.execute(
        "CREATE INDEX ix_audit_logs_org_channel_time ON audit_logs (organization_id, channel, timestamp)"
    )
    op.execute("CREATE INDEX ix_audit_logs_org_actor_time ON audit_logs (organization_id, actor, timestamp)")
    op.execute(
        "CREATE INDEX ix_audit_logs_org_resource_time "
        "ON audit_logs (organization_id, resource_type, resource_id, timestamp)"
    )


def downgrade() -> None:
    for name in ("org_resource_time", "org_actor_time", "org_channel_time", "org_action_time", "org_time_id"):
        op.execute(f"DROP INDEX IF EXISTS ix_audit_logs_{name}")
    op.execute("CREATE INDEX ix_audit_logs_action ON audit_logs (action)")
    op.execute("CREATE INDEX ix_audit_logs_org_time ON audit_logs (organization_id, timestamp)")
    op.execute("ALTER TABLE audit_logs DROP COLUMN actor")
    op.execute("ALTER TABLE audit_logs DROP COLUMN channel")
