"""Owned commitments of Azure and GCP (#22): applied scope, CUD resources, and whether the read was possible.

- ``owned_commitments`` gains ``applied_scope`` (Azure: ``Shared`` or the single subscription / resource
  group the reservation or savings plan applies to), ``vcpus`` and ``memory_mb`` (a GCP committed-use
  discount's VCPU and MEMORY resources), and the kind ``committed_use`` (GCP CUD).
- ``owned_commitment_reads``: the last inventory read of one (organisation, provider, account): when, and
  when it could not be read, the reason and the permission the credentials lack (shown as
  ``unavailable: <permission>`` by ``GET /v1/commitments``). One row per account: a newer read replaces it.

Revision ID: 0039_owned_commitments_clouds
"""

from alembic import op

revision = "0039_owned_commitments_clouds"
down_revision = "0038_ticket_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE owned_commitments
            ADD COLUMN applied_scope TEXT,
            ADD COLUMN vcpus INTEGER,
            ADD COLUMN memory_mb BIGINT;
        ALTER TABLE owned_commitments DROP CONSTRAINT ck_owned_commitments_kind;
        ALTER TABLE owned_commitments ADD CONSTRAINT ck_owned_commitments_kind
            CHECK (kind IN ('reserved_instance', 'savings_plan', 'committed_use'));
        CREATE TABLE owned_commitment_reads (
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            provider VARCHAR(16) NOT NULL,
            account_id TEXT NOT NULL,
            read_at TIMESTAMP WITH TIME ZONE NOT NULL,
            available BOOLEAN NOT NULL,
            permission TEXT,
            reason TEXT,
            CONSTRAINT pk_owned_commitment_reads PRIMARY KEY (organization_id, provider, account_id)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE owned_commitment_reads;
        DELETE FROM owned_commitments WHERE kind = 'committed_use';
        ALTER TABLE owned_commitments DROP CONSTRAINT ck_owned_commitments_kind;
        ALTER TABLE owned_commitments ADD CONSTRAINT ck_owned_commitments_kind
            CHECK (kind IN ('reserved_instance', 'savings_plan'));
        ALTER TABLE owned_commitments DROP COLUMN applied_scope, DROP COLUMN vcpus, DROP COLUMN memory_mb;
        """
    )
