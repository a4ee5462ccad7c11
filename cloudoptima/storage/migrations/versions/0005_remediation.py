"""Approval-gated remediation: policy_executions become the record of one remediation workflow (its plan,
risk, who asked, who decided and when, when it expires or is scheduled) and the pending-approvals index.

Revision ID: 0005_remediation
"""

from alembic import op

revision = "0005_remediation"
down_revision = "0004_collection"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE policy_executions
    ADD COLUMN kind VARCHAR(20) DEFAULT 'policy' NOT NULL,
    ADD COLUMN plan JSONB,
    ADD COLUMN risk_level VARCHAR(20),
    ADD COLUMN approval_required BOOLEAN DEFAULT true NOT NULL,
    ADD COLUMN requested_by VARCHAR(255),
    ADD COLUMN requested_by_role VARCHAR(32),
    ADD COLUMN decision VARCHAR(16),
    ADD COLUMN decided_by VARCHAR(255),
    ADD COLUMN decided_by_role VARCHAR(32),
    ADD COLUMN decided_at TIMESTAMP WITH TIME ZONE,
    ADD COLUMN decision_comment TEXT,
    ADD COLUMN expires_at TIMESTAMP WITH TIME ZONE,
    ADD COLUMN scheduled_for TIMESTAMP WITH TIME ZONE,
    ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE;
CREATE INDEX ix_policy_executions_org_status ON policy_executions (organization_id, status);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS ix_policy_executions_org_status;
ALTER TABLE policy_executions
    DROP COLUMN kind, DROP COLUMN plan, DROP COLUMN risk_level, DROP COLUMN approval_required,
    DROP COLUMN requested_by, DROP COLUMN requested_by_role, DROP COLUMN decision, DROP COLUMN decided_by,
    DROP COLUMN decided_by_role, DROP COLUMN decided_at, DROP COLUMN decision_comment, DROP COLUMN expires_at,
    DROP COLUMN scheduled_for, DROP COLUMN updated_at;
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(DOWNGRADE)
