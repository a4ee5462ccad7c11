"""Allocation dimensions, their immutable rule-set versions, and the allocated daily rollup.

- ``allocation_dimensions``: one per organisation and name (``team``); ``active_version`` is the rule-set
  version readers see (NULL until the first re-allocation finished); ``latest_version`` the newest saved.
- ``allocation_rule_sets``: version ``n`` of a dimension's rules (JSON, immutable once written).
- ``cost_allocated_daily``: billed cost per organisation, dimension, version, UTC day, value, account,
  provider, service, region and currency, computed from ``cost_data`` by re-allocation (drill-down, exports).
- ``cost_allocated_totals``: the same per day, currency and value only (what showback reads: days x values
  rows, so allocated views stay as fast as the overview).

Revision ID: 0029_allocation
"""

from alembic import op

revision = "0029_allocation"
down_revision = "0028_ingest_file_totals"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE allocation_dimensions (
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    name VARCHAR(63) NOT NULL,
    description TEXT,
    active_version INTEGER,
    latest_version INTEGER NOT NULL DEFAULT 0,
    allocated_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_allocation_dimensions PRIMARY KEY (id),
    CONSTRAINT uq_allocation_dimensions_org_name UNIQUE (organization_id, name),
    CONSTRAINT fk_allocation_dimensions_organization_id_organizations FOREIGN KEY(organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE TABLE allocation_rule_sets (
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    dimension_id UUID NOT NULL,
    version INTEGER NOT NULL,
    rules JSONB NOT NULL,
    created_by UUID,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_allocation_rule_sets PRIMARY KEY (id),
    CONSTRAINT uq_allocation_rule_sets_dimension_version UNIQUE (dimension_id, version),
    CONSTRAINT fk_allocation_rule_sets_dimension_id FOREIGN KEY(dimension_id)
        REFERENCES allocation_dimensions (id) ON DELETE CASCADE,
    CONSTRAINT fk_allocation_rule_sets_organization_id_organizations FOREIGN KEY(organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_allocation_rule_sets_organization_id ON allocation_rule_sets (organization_id);

CREATE TABLE cost_allocated_daily (
    id BIGSERIAL NOT NULL,
    organization_id UUID NOT NULL,
    dimension_id UUID NOT NULL,
    version INTEGER NOT NULL,
    usage_date DATE NOT NULL,
    value TEXT NOT NULL,
    cloud_account_id UUID,
    provider VARCHAR(20) NOT NULL,
    service_name TEXT,
    region_id TEXT,
    billing_currency VARCHAR(3) NOT NULL,
    billed_cost NUMERIC NOT NULL,
    shared BOOLEAN NOT NULL,
    CONSTRAINT pk_cost_allocated_daily PRIMARY KEY (id),
    CONSTRAINT fk_cost_allocated_daily_dimension_id FOREIGN KEY(dimension_id)
        REFERENCES allocation_dimensions (id) ON DELETE CASCADE,
    CONSTRAINT fk_cost_allocated_daily_organization_id_organizations FOREIGN KEY(organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_cost_allocated_daily_read
    ON cost_allocated_daily (organization_id, dimension_id, version, usage_date);

CREATE TABLE cost_allocated_totals (
    organization_id UUID NOT NULL,
    dimension_id UUID NOT NULL,
    version INTEGER NOT NULL,
    usage_date DATE NOT NULL,
    billing_currency VARCHAR(3) NOT NULL,
    value TEXT NOT NULL,
    billed_cost NUMERIC NOT NULL,
    shared_cost NUMERIC NOT NULL,
    CONSTRAINT pk_cost_allocated_totals
        PRIMARY KEY (organization_id, dimension_id, version, usage_date, billing_currency, value),
    CONSTRAINT fk_cost_allocated_totals_dimension_id FOREIGN KEY(dimension_id)
        REFERENCES allocation_dimensions (id) ON DELETE CASCADE,
    CONSTRAINT fk_cost_allocated_totals_organization_id_organizations FOREIGN KEY(organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    for table in (
        "cost_allocated_totals",
        "cost_allocated_daily",
        "allocation_rule_sets",
        "allocation_dimensions",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
