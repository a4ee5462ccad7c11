"""Notification delivery: the channels an admin configures and the deliveries (with retries and dead letters).

- ``notification_channels``: one configured destination of an organisation: ``kind`` (``email``, ``slack``,
  ``teams``, ``webhook``), ``name``, ``target_encrypted`` (the address or URL, Fernet-encrypted with the
  credential cipher: webhook URLs carry their secret in the path), ``secret_encrypted`` (the webhook signing
  secret, NULL for other kinds), ``target_hint`` (the redacted target shown to admins), ``enabled``.
- ``notification_deliveries``: one notice to one channel. ``status`` is ``pending`` (due at
  ``next_attempt_at``), ``delivered`` or ``dead``; ``attempts`` and ``last_error`` record the outcome.
  ``(channel_id, idempotency_key)`` is unique, so enqueueing the same notice twice keeps one delivery.
  ``ix_notification_deliveries_due`` serves the worker's scan for due pending deliveries.

Revision ID: 0024_notification_delivery
"""

from alembic import op

revision = "0024_notification_delivery"
down_revision = "0023_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE notification_channels (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            name VARCHAR(100) NOT NULL,
            kind VARCHAR(16) NOT NULL,
            target_encrypted TEXT NOT NULL,
            target_hint VARCHAR(300) NOT NULL,
            secret_encrypted TEXT,
            enabled BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_notification_channels PRIMARY KEY (id),
            CONSTRAINT uq_notification_channels_name UNIQUE (organization_id, name),
            CONSTRAINT ck_notification_channels_kind CHECK (kind IN ('email', 'slack', 'teams', 'webhook'))
        )
        """
    )
    op.execute(
        """
        CREATE TABLE notification_deliveries (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            channel_id UUID NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
            idempotency_key VARCHAR(200) NOT NULL,
            notice JSONB NOT NULL,
            status VARCHAR(16) NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL,
            delivered_at TIMESTAMP WITH TIME ZONE,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_notification_deliveries PRIMARY KEY (id),
            CONSTRAINT uq_notification_deliveries_key UNIQUE (channel_id, idempotency_key),
            CONSTRAINT ck_notification_deliveries_status CHECK (status IN ('pending', 'delivered', 'dead'))
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_notification_deliveries_due ON notification_deliveries "
        "(next_attempt_at, id) WHERE status = 'pending'"
    )
    op.execute(
        "CREATE INDEX ix_notification_deliveries_org_status ON notification_deliveries "
        "(organization_id, status, created_at DESC)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE notification_deliveries")
    op.execute("DROP TABLE notification_channels")
