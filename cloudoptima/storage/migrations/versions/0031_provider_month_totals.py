"""Cost-data trust (#21 D): the provider's own monthly total per collected account.

- ``provider_month_totals``: one row per (organisation, cloud account, billing month, currency, basis) —
  ``basis`` ``billed`` | ``effective`` (amortised) | ``blended`` —
  the provider's own total for that month as its cost API answered during collection (AWS Cost Explorer
  GetCostAndUsage MONTHLY UnblendedCost, Azure Cost Management query ActualCost, GCP billing export per
  invoice.month), or — when the provider gave no number — ``total`` NULL and ``unavailable_reason`` saying
  why. Each collection replaces the account's rows for the months it asked about. Reconciliation
  (``cloudoptima.services.data_trust``) compares ``cost_data`` of collected accounts with these.

Revision ID: 0031_provider_month_totals
"""

from alembic import op

revision = "0031_provider_month_totals"
down_revision = "0030_cost_exports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE provider_month_totals (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            cloud_account_id UUID NOT NULL REFERENCES cloud_accounts (id) ON DELETE CASCADE,
            provider VARCHAR(20) NOT NULL,
            account_identifier TEXT NOT NULL,
            month DATE NOT NULL,
            currency VARCHAR(3) NOT NULL DEFAULT '',
            basis VARCHAR(32) NOT NULL,
            total NUMERIC,
            source TEXT NOT NULL,
            unavailable_reason TEXT,
            recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_provider_month_totals PRIMARY KEY (id),
            CONSTRAINT uq_provider_month_totals UNIQUE (organization_id, cloud_account_id, month, currency, basis),
            CONSTRAINT ck_provider_month_totals_first_day CHECK (EXTRACT(DAY FROM month) = 1),
            CONSTRAINT ck_provider_month_totals_reason CHECK ((total IS NULL) = (unavailable_reason IS NOT NULL))
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE provider_month_totals")
