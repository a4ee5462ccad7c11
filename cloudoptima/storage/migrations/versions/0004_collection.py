"""Collection: IAM principals (JSONB documents), stored cost forecasts, and per-account indexes on the cost
tables so collection can replace one account's day window (and its rollup) without scanning the others.

Revision ID: 0004_collection
"""

from alembic import op

revision = "0004_collection"
down_revision = "0003_optimisation_lifecycle"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE iam_principals (
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    cloud_account_id UUID NOT NULL,
    principal_id TEXT NOT NULL,
    provider VARCHAR(20) NOT NULL,
    name TEXT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    status VARCHAR(20) DEFAULT 'active' NOT NULL,
    privileged BOOLEAN DEFAULT false NOT NULL,
    active_credentials INTEGER DEFAULT 0 NOT NULL,
    last_activity_at TIMESTAMP WITH TIME ZONE,
    document JSONB DEFAULT '{}'::jsonb NOT NULL,
    first_seen TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    last_seen TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_iam_principals PRIMARY KEY (id),
    CONSTRAINT uq_iam_principals_organization_id UNIQUE (organization_id, cloud_account_id, principal_id),
    CONSTRAINT fk_iam_principals_organization_id_organizations FOREIGN KEY(organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT fk_iam_principals_cloud_account_id_cloud_accounts FOREIGN KEY(cloud_account_id)
        REFERENCES cloud_accounts (id) ON DELETE CASCADE
);
CREATE INDEX ix_iam_principals_organization_id ON iam_principals (organization_id);
CREATE INDEX ix_iam_principals_org_kind ON iam_principals (organization_id, kind);

CREATE TABLE cost_forecasts (
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    currency VARCHAR(3) NOT NULL,
    model VARCHAR(32) NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    total NUMERIC NOT NULL,
    points JSONB DEFAULT '[]'::jsonb NOT NULL,
    history_days INTEGER NOT NULL,
    generated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_cost_forecasts PRIMARY KEY (id),
    CONSTRAINT uq_cost_forecasts_organization_id UNIQUE (organization_id, currency),
    CONSTRAINT fk_cost_forecasts_organization_id_organizations FOREIGN KEY(organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_cost_forecasts_organization_id ON cost_forecasts (organization_id);

CREATE INDEX ix_cost_data_account_time ON cost_data (cloud_account_id, charge_period_start);
CREATE INDEX ix_cost_daily_account_day ON cost_daily (cloud_account_id, usage_date);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS ix_cost_daily_account_day;
DROP INDEX IF EXISTS ix_cost_data_account_time;
DROP TABLE IF EXISTS cost_forecasts;
DROP TABLE IF EXISTS iam_principals;
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(DOWNGRADE)
