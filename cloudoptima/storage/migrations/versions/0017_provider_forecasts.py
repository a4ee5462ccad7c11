"""Provider forecasts: the cloud's own forecast of an account's cost (AWS Cost Explorer, Azure Cost
Management), kept beside the product's own.

One row per cloud account (the latest fetch replaces it): the period ``[period_start, period_end)``, the
total, the daily points as JSON (``day``, ``mean``, ``lower``, ``upper``; bounds may be null), the source
and the fetch time. Deleting the account deletes its forecast.

Revision ID: 0017_provider_forecasts
"""

from alembic import op

revision = "0017_provider_forecasts"
down_revision = "0016_anomaly_kind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE provider_forecasts (
            cloud_account_id UUID NOT NULL REFERENCES cloud_accounts (id) ON DELETE CASCADE,
            organization_id UUID NOT NULL,
            source TEXT NOT NULL,
            currency VARCHAR(3) NOT NULL,
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            total NUMERIC NOT NULL,
            points JSONB NOT NULL,
            fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_provider_forecasts PRIMARY KEY (cloud_account_id),
            CONSTRAINT ck_provider_forecasts_period CHECK (period_start < period_end)
        )
        """
    )
    op.execute("CREATE INDEX ix_provider_forecasts_org ON provider_forecasts (organization_id)")


def downgrade() -> None:
    op.execute("DROP TABLE provider_forecasts")
