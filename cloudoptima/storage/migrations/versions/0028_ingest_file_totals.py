"""Cost-data trust (#21): the billing file's own totals, recorded at ingest.

- ``ingest_file_totals``: one row per (ingest run, source file, provider, billing account, billing period,
  currency): the exact ΣBilledCost, ΣEffectiveCost and ΣListCost of the file's accepted rows for that billing
  period (FOCUS: BilledCost per InvoiceId sums to the invoice's payable amount), the row count, the first and
  last charge day (UTC, inclusive), the invoice ids seen, and the file's SHA-256. Reconciliation
  (``cloudoptima.services.data_trust``) compares these with what ``cost_data`` holds now and finds files
  loaded twice (same hash, or same billing period under another name).

Revision ID: 0028_ingest_file_totals
"""

from alembic import op

revision = "0028_ingest_file_totals"
down_revision = "0027_contract_commitments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ingest_file_totals (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            ingest_run_id UUID NOT NULL REFERENCES ingest_runs (id) ON DELETE CASCADE,
            batch_id UUID NOT NULL,
            cloud_account_id UUID REFERENCES cloud_accounts (id) ON DELETE SET NULL,
            source_file TEXT NOT NULL,
            file_sha256 VARCHAR(64),
            provider VARCHAR(20) NOT NULL,
            billing_account_id TEXT NOT NULL,
            billing_period_start TIMESTAMP WITH TIME ZONE NOT NULL,
            billing_period_end TIMESTAMP WITH TIME ZONE NOT NULL,
            billing_currency VARCHAR(3) NOT NULL,
            billed_cost NUMERIC NOT NULL,
            effective_cost NUMERIC NOT NULL,
            list_cost NUMERIC NOT NULL,
            row_count BIGINT NOT NULL,
            first_day DATE NOT NULL,
            last_day DATE NOT NULL,
            invoice_ids TEXT[] NOT NULL DEFAULT '{}',
            ingested_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_ingest_file_totals PRIMARY KEY (id)
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_ingest_file_totals_period ON ingest_file_totals "
        "(organization_id, billing_period_start, provider, billing_account_id)"
    )
    op.execute("CREATE INDEX ix_ingest_file_totals_run ON ingest_file_totals (ingest_run_id)")


def downgrade() -> None:
    op.execute("DROP TABLE ingest_file_totals")
