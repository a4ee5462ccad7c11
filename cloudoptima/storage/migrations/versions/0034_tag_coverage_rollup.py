"""Tag coverage rollups (#21): coverage of the required tag keys answered without reading cost rows.

- ``cost_tag_coverage_daily``: billed spend per organisation, UTC day (of ``charge_period_start``), cloud
  account, account (sub account, else billing account), service, currency and ``key_mask`` — bit ``i`` set
  when the rows carry a compliant value of the organisation's ``i``-th required tag key (aliases, case variants
  and allowed values as ``domain.tag_policy`` reads them), with the row count.
- ``cost_tag_resource_days``: per organisation, UTC day, cloud account, currency and resource id (rows without
  one are left out), the billed spend and ``key_mask`` OR-ed over the day's rows of the resource.

- ``cost_tag_coverage_state``: per organisation, the fingerprint of the required keys (key, aliases, allowed
  values) the masks were computed for; readers fall back to the cost rows when it is not the current policy's.

Both are maintained with ``cost_daily`` (ingestion, collection, ``db rebuild-rollup``) and rebuilt for the
whole organisation when its tag policy's required keys change (``storage.cost_loader.tag_coverage``).

Revision ID: 0034_tag_coverage_rollup
"""

from alembic import op

revision = "0034_tag_coverage_rollup"
down_revision = "0033_allocated_effective_cost"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE cost_tag_coverage_daily (
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            usage_date DATE NOT NULL,
            cloud_account_id UUID,
            account TEXT,
            service_name TEXT,
            billing_currency VARCHAR(3) NOT NULL,
            key_mask BIGINT NOT NULL,
            billed_cost NUMERIC NOT NULL,
            row_count BIGINT NOT NULL
        );
        CREATE INDEX ix_cost_tag_coverage_daily_org_day ON cost_tag_coverage_daily (organization_id, usage_date);
        CREATE INDEX ix_cost_tag_coverage_daily_account_day
            ON cost_tag_coverage_daily (cloud_account_id, usage_date);
        CREATE TABLE cost_tag_resource_days (
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            usage_date DATE NOT NULL,
            cloud_account_id UUID,
            billing_currency VARCHAR(3) NOT NULL,
            resource_id TEXT NOT NULL,
            key_mask BIGINT NOT NULL,
            billed_cost NUMERIC NOT NULL
        );
        CREATE INDEX ix_cost_tag_resource_days_org_day ON cost_tag_resource_days (organization_id, usage_date);
        CREATE INDEX ix_cost_tag_resource_days_account_day
            ON cost_tag_resource_days (cloud_account_id, usage_date);
        CREATE TABLE cost_tag_coverage_state (
            organization_id UUID PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
            rules_fingerprint TEXT NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS cost_tag_coverage_state; DROP TABLE IF EXISTS cost_tag_resource_days; "
        "DROP TABLE IF EXISTS cost_tag_coverage_daily;"
    )
