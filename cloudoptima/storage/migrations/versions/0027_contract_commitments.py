"""FOCUS 1.3 Contract Commitment dataset.

- ``contract_commitments``: one contract commitment of an organisation, as read from a FOCUS 1.3 Contract
  Commitment file (``cloudoptima.ingest.contract_commitment``): its id and contract id, category (``Spend`` or
  ``Usage``), type, description, cost (in ``billing_currency``) or quantity (in ``unit``), the commitment and
  contract periods (UTC, end-exclusive), and where it was read (``source_file``, ``source_line``,
  ``ingested_at``). One row per (organisation, commitment id): a newer file replaces the row.
  Joined to cost rows through the ``ContractCommitmentId`` of their ``ContractApplied`` (kept in
  ``cost_data.extensions``).

Revision ID: 0027_contract_commitments
"""

from alembic import op

revision = "0027_contract_commitments"
down_revision = "0026_notification_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE contract_commitments (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            contract_commitment_id TEXT NOT NULL,
            contract_id TEXT NOT NULL,
            category VARCHAR(8) NOT NULL,
            commitment_type TEXT NOT NULL,
            description TEXT,
            cost NUMERIC(38, 12),
            quantity NUMERIC(38, 12),
            unit TEXT,
            billing_currency VARCHAR(3),
            commitment_period_start TIMESTAMP WITH TIME ZONE NOT NULL,
            commitment_period_end TIMESTAMP WITH TIME ZONE NOT NULL,
            contract_period_start TIMESTAMP WITH TIME ZONE NOT NULL,
            contract_period_end TIMESTAMP WITH TIME ZONE NOT NULL,
            source_file TEXT NOT NULL,
            source_line INTEGER NOT NULL,
            ingested_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_contract_commitments PRIMARY KEY (id),
            CONSTRAINT uq_contract_commitments_id UNIQUE (organization_id, contract_commitment_id),
            CONSTRAINT ck_contract_commitments_category CHECK (category IN ('Spend', 'Usage')),
            CONSTRAINT ck_contract_commitments_periods CHECK (
                commitment_period_start < commitment_period_end AND contract_period_start < contract_period_end
            )
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_contract_commitments_organization_id ON contract_commitments (organization_id)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE contract_commitments")
