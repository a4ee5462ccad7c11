"""Lifecycle columns for recommendations (rule, priority, preview, permanent dismissal), anomalies (incident
fingerprint, window, scope, contributions, who set the status) and budgets (last evaluation).

Revision ID: 0003_optimisation_lifecycle
"""

from alembic import op

revision = "0003_optimisation_lifecycle"
down_revision = "0002_ingest_rollups"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE recommendations
    ADD COLUMN rule_id VARCHAR(64),
    ADD COLUMN profile VARCHAR(64),
    ADD COLUMN provider VARCHAR(20),
    ADD COLUMN account_identifier VARCHAR(255),
    ADD COLUMN region VARCHAR(100),
    ADD COLUMN confidence NUMERIC(5, 4),
    ADD COLUMN priority NUMERIC(18, 4),
    ADD COLUMN resource_ids JSONB DEFAULT '[]'::jsonb NOT NULL,
    ADD COLUMN manual_steps JSONB,
    ADD COLUMN impact_preview JSONB,
    ADD COLUMN evidence JSONB,
    ADD COLUMN last_seen_at TIMESTAMP WITH TIME ZONE,
    ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE,
    ADD COLUMN dismissed_permanently BOOLEAN DEFAULT false NOT NULL;
CREATE UNIQUE INDEX uq_recommendations_org_fingerprint ON recommendations (organization_id, fingerprint);
CREATE INDEX ix_recommendations_org_status ON recommendations (organization_id, status);

ALTER TABLE anomalies
    ADD COLUMN fingerprint VARCHAR(64),
    ADD COLUMN scope JSONB,
    ADD COLUMN related_scopes JSONB,
    ADD COLUMN start_date DATE,
    ADD COLUMN end_date DATE,
    ADD COLUMN actual_spend NUMERIC(15, 2),
    ADD COLUMN expected_spend NUMERIC(15, 2),
    ADD COLUMN score DOUBLE PRECISION,
    ADD COLUMN dimension_contributions JSONB,
    ADD COLUMN status_set_by VARCHAR(16) DEFAULT 'system' NOT NULL,
    ADD COLUMN feedback_at TIMESTAMP WITH TIME ZONE,
    ADD COLUMN last_seen_at TIMESTAMP WITH TIME ZONE;
CREATE UNIQUE INDEX uq_anomalies_org_fingerprint ON anomalies (organization_id, fingerprint);

ALTER TABLE budgets
    ADD COLUMN last_evaluated_at TIMESTAMP WITH TIME ZONE,
    ADD COLUMN last_evaluation JSONB;
"""

DOWNGRADE = """
DROP INDEX IF EXISTS uq_recommendations_org_fingerprint;
DROP INDEX IF EXISTS ix_recommendations_org_status;
DROP INDEX IF EXISTS uq_anomalies_org_fingerprint;
ALTER TABLE recommendations
    DROP COLUMN rule_id, DROP COLUMN profile, DROP COLUMN provider, DROP COLUMN account_identifier,
    DROP COLUMN region, DROP COLUMN confidence, DROP COLUMN priority, DROP COLUMN resource_ids,
    DROP COLUMN manual_steps, DROP COLUMN impact_preview, DROP COLUMN evidence, DROP COLUMN last_seen_at,
    DROP COLUMN updated_at, DROP COLUMN dismissed_permanently;
ALTER TABLE anomalies
    DROP COLUMN fingerprint, DROP COLUMN scope, DROP COLUMN related_scopes, DROP COLUMN start_date,
    DROP COLUMN end_date, DROP COLUMN actual_spend, DROP COLUMN expected_spend, DROP COLUMN score,
    DROP COLUMN dimension_contributions, DROP COLUMN status_set_by, DROP COLUMN feedback_at,
    DROP COLUMN last_seen_at;
ALTER TABLE budgets DROP COLUMN last_evaluated_at, DROP COLUMN last_evaluation;
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(DOWNGRADE)
