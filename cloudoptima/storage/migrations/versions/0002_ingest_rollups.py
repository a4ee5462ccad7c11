"""Ingestion runs and quarantine, and the ``cost_daily`` rollup that dashboards read.

Revision ID: 0002_ingest_rollups
"""

from alembic import op

revision = "0002_ingest_rollups"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE ingest_runs (
    batch_id UUID NOT NULL,
    cloud_account_id UUID,
    source_file TEXT NOT NULL,
    file_sha256 VARCHAR(64),
    format VARCHAR(32),
    focus_version VARCHAR(16),
    status VARCHAR(20) NOT NULL,
    started_at TIMESTAMP WITH TIME ZONE NOT NULL,
    completed_at TIMESTAMP WITH TIME ZONE,
    rows_read BIGINT NOT NULL,
    rows_accepted BIGINT NOT NULL,
    rows_normalised BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_replaced BIGINT NOT NULL,
    summary JSONB NOT NULL,
    error TEXT,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_ingest_runs PRIMARY KEY (id),
    CONSTRAINT fk_ingest_runs_cloud_account_id_cloud_accounts FOREIGN KEY(cloud_account_id) REFERENCES cloud_accounts (id) ON DELETE SET NULL,
    CONSTRAINT fk_ingest_runs_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_ingest_runs_batch_id ON ingest_runs (batch_id);
CREATE INDEX ix_ingest_runs_organization_id ON ingest_runs (organization_id);

CREATE TABLE ingest_quarantine (
    ingest_run_id UUID NOT NULL,
    source_file TEXT NOT NULL,
    line INTEGER,
    column_name TEXT,
    reason TEXT NOT NULL,
    raw_value TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_ingest_quarantine PRIMARY KEY (id),
    CONSTRAINT fk_ingest_quarantine_ingest_run_id_ingest_runs FOREIGN KEY(ingest_run_id) REFERENCES ingest_runs (id) ON DELETE CASCADE,
    CONSTRAINT fk_ingest_quarantine_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_ingest_quarantine_organization_id ON ingest_quarantine (organization_id);
CREATE INDEX ix_ingest_quarantine_run ON ingest_quarantine (ingest_run_id);

CREATE TABLE cost_daily (
    id BIGSERIAL NOT NULL,
    usage_date DATE NOT NULL,
    cloud_account_id UUID,
    provider VARCHAR(20) NOT NULL,
    billing_account_id TEXT,
    sub_account_id TEXT,
    service_name TEXT,
    service_category TEXT,
    region_id TEXT,
    charge_category TEXT,
    billing_currency VARCHAR(3) NOT NULL,
    tag_values JSONB NOT NULL,
    billed_cost NUMERIC NOT NULL,
    effective_cost NUMERIC NOT NULL,
    list_cost NUMERIC NOT NULL,
    row_count BIGINT NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_cost_daily PRIMARY KEY (id),
    CONSTRAINT fk_cost_daily_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_cost_daily_org_day ON cost_daily (organization_id, usage_date);
CREATE INDEX ix_cost_daily_organization_id ON cost_daily (organization_id);
CREATE INDEX ix_cost_daily_tags ON cost_daily USING gin (tag_values);
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    for table in ("cost_daily", "ingest_quarantine", "ingest_runs"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
