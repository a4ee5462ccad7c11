"""Notification rules (what notifies whom) and per-user digests.

- ``notification_rules``: one rule of an organisation: ``event_type`` (``budget.actual``, ``budget.forecasted``,
  ``anomaly.detected``, ``recommendation.created``, ``approval.requested``, ``execution.succeeded``,
  ``execution.failed``, ``collection.failed``, ``report.ready``: NoticeEventType but ``digest``), thresholds (``min_severity`` ``info``/``warning``/``critical``,
  ``min_amount`` in the event's currency), ``scope`` (JSONB filters such as account ids, services, budget ids;
  empty matches all), where it goes (``channel_id`` a configured channel, or NULL for the in-app inbox) and to
  whom in-app (``recipients`` JSONB: ``roles`` and ``user_ids``), ``quiet_hours`` (JSONB ``start``, ``end``
  ``HH:MM`` and ``timezone``; deliveries falling inside wait until the end), ``enabled``.
- ``notification_digests``: one user's digest subscription: ``frequency`` ``daily`` or ``weekly``,
  ``day_of_week`` (weekly), ``time_of_day`` and ``timezone``, ``channel`` (``email`` or ``in_app``),
  ``last_sent_at``; ``last_attempt_at`` and ``last_error`` (the reason of the last failed send, cleared by the
  next successful one); at most one per user.

Revision ID: 0026_notification_rules
"""

from alembic import op

revision = "0026_notification_rules"
down_revision = "0025_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE notification_rules (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            name VARCHAR(200) NOT NULL,
            event_type VARCHAR(40) NOT NULL,
            min_severity VARCHAR(16),
            min_amount NUMERIC(20, 6),
            scope JSONB NOT NULL DEFAULT '{}'::jsonb,
            channel_id UUID REFERENCES notification_channels (id) ON DELETE CASCADE,
            recipients JSONB NOT NULL DEFAULT '{}'::jsonb,
            quiet_hours JSONB,
            enabled BOOLEAN NOT NULL DEFAULT true,
            created_by UUID REFERENCES users (id) ON DELETE SET NULL,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_notification_rules PRIMARY KEY (id),
            CONSTRAINT uq_notification_rules_name UNIQUE (organization_id, name),
            CONSTRAINT ck_notification_rules_event_type CHECK (event_type IN (
                'budget.actual', 'budget.forecasted', 'anomaly.detected', 'recommendation.created',
                'approval.requested', 'execution.succeeded', 'execution.failed', 'collection.failed', 'report.ready'
            )),
            CONSTRAINT ck_notification_rules_severity
                CHECK (min_severity IS NULL OR min_severity IN ('info', 'warning', 'critical'))
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_notification_rules_org_event ON notification_rules (organization_id, event_type) "
        "WHERE enabled"
    )
    op.execute(
        """
        CREATE TABLE notification_digests (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            frequency VARCHAR(8) NOT NULL,
            day_of_week SMALLINT,
            time_of_day VARCHAR(5) NOT NULL DEFAULT '08:00',
            timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
            channel VARCHAR(8) NOT NULL DEFAULT 'email',
            last_sent_at TIMESTAMP WITH TIME ZONE,
            last_attempt_at TIMESTAMP WITH TIME ZONE,
            last_error TEXT,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_notification_digests PRIMARY KEY (id),
            CONSTRAINT uq_notification_digests_user UNIQUE (organization_id, user_id),
            CONSTRAINT ck_notification_digests_frequency CHECK (frequency IN ('daily', 'weekly')),
            CONSTRAINT ck_notification_digests_day CHECK (day_of_week IS NULL OR day_of_week BETWEEN 0 AND 6),
            CONSTRAINT ck_notification_digests_channel CHECK (channel IN ('email', 'in_app'))
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE notification_digests")
    op.execute("DROP TABLE notification_rules")
