"""Tickets in sync (#22): webhook secrets, per-tracker sync errors, reopen window and webhook deliveries.

- ``ticket_trackers``: ``webhook_secret_encrypted`` (the secret incoming tracker webhooks are signed with,
  encrypted with the credential cipher, never returned), ``last_synced_at`` and ``last_sync_error`` (the last
  scheduled or requested sync of this tracker; None when it read every ticket).
- ``recommendation_tickets``: ``closed_at`` (when the close was seen; a closed ticket is read again for
  reopening within a window); the state ``gone`` (deleted or transferred in the tracker) is final.
- ``ticket_webhook_deliveries``: the delivery ids received per tracker, so a replayed delivery is ignored.

Revision ID: 0038_ticket_sync
"""

from alembic import op

revision = "0038_ticket_sync"
down_revision = "0037_owned_commitments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE ticket_trackers
            ADD COLUMN webhook_secret_encrypted TEXT,
            ADD COLUMN last_synced_at TIMESTAMPTZ,
            ADD COLUMN last_sync_error TEXT;
        ALTER TABLE recommendation_tickets ADD COLUMN closed_at TIMESTAMPTZ;
        CREATE TABLE ticket_webhook_deliveries (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            tracker_id UUID NOT NULL REFERENCES ticket_trackers (id) ON DELETE CASCADE,
            delivery_id VARCHAR(200) NOT NULL,
            event VARCHAR(100) NOT NULL,
            outcome VARCHAR(200) NOT NULL,
            received_at TIMESTAMPTZ NOT NULL,
            CONSTRAINT uq_ticket_webhook_deliveries UNIQUE (tracker_id, delivery_id)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE ticket_webhook_deliveries;
        ALTER TABLE recommendation_tickets DROP COLUMN closed_at;
        ALTER TABLE ticket_trackers
            DROP COLUMN webhook_secret_encrypted,
            DROP COLUMN last_synced_at,
            DROP COLUMN last_sync_error;
        """
    )
