"""Policy firings: each time an event or threshold trigger fires a policy, what fired it and the execution it
started (``storage.models.policy_firings``); ``(policy_id, fire_key)`` unique so an event fires a policy once.
``resources.first_seen``: when a collection first stored a resource (the ``resource.created`` event; existing
rows take their ``last_updated``, so they are not new).

Revision ID: 0020_policy_firings
"""

from alembic import op

revision = "0020_policy_firings"
down_revision = "0019_audit_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE policy_firings (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            policy_id UUID NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
            trigger_type VARCHAR(16) NOT NULL,
            fire_key TEXT NOT NULL,
            event VARCHAR(64),
            event_id TEXT,
            metric VARCHAR(64),
            observed NUMERIC(20, 6),
            threshold NUMERIC(20, 6),
            window_start DATE,
            window_end DATE,
            resource_ids JSONB NOT NULL,
            details JSONB NOT NULL,
            execution_id UUID NOT NULL,
            workflow_id VARCHAR(255),
            fired_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_policy_firings PRIMARY KEY (id),
            CONSTRAINT uq_policy_firings_key UNIQUE (policy_id, fire_key)
        )
        """
    )
    op.execute("ALTER TABLE resources ADD COLUMN first_seen TIMESTAMP WITH TIME ZONE DEFAULT now()")
    op.execute("UPDATE resources SET first_seen = last_updated")
    op.execute("ALTER TABLE resources ALTER COLUMN first_seen SET NOT NULL")
    op.execute("CREATE INDEX ix_policy_firings_organization_id ON policy_firings (organization_id)")
    op.execute("CREATE INDEX ix_policy_firings_policy_id ON policy_firings (policy_id)")
    op.execute("CREATE INDEX ix_policy_firings_org_time ON policy_firings (organization_id, fired_at)")


def downgrade() -> None:
    op.execute("DROP TABLE policy_firings")
    op.execute("ALTER TABLE resources DROP COLUMN first_seen")
