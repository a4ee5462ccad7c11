"""Execution events: what happened during one remediation, fact by fact (states reached with their time and
decision, each step's outcome, verification and rollback, safety snapshots taken, rollbacks requested).

Keyed by ``(execution_id, kind, key)`` so a retried activity rewrites its fact; deleting the execution (or
the organisation) deletes its events.

Revision ID: 0018_execution_events
"""

from alembic import op

revision = "0018_execution_events"
down_revision = "0017_provider_forecasts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE execution_events (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            execution_id UUID NOT NULL REFERENCES policy_executions (id) ON DELETE CASCADE,
            kind VARCHAR(32) NOT NULL,
            key VARCHAR(255) NOT NULL,
            data JSONB NOT NULL,
            at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_execution_events PRIMARY KEY (id),
            CONSTRAINT uq_execution_events_key UNIQUE (execution_id, kind, key)
        )
        """
    )
    op.execute("CREATE INDEX ix_execution_events_organization_id ON execution_events (organization_id)")
    op.execute("CREATE INDEX ix_execution_events_execution_id ON execution_events (execution_id)")
    op.execute("CREATE INDEX ix_execution_events_kind_key ON execution_events (organization_id, kind, key)")


def downgrade() -> None:
    op.execute("DROP TABLE execution_events")
