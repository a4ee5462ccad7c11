"""Owned commitments inventory (#22): RIs / Savings Plans read from the providers' APIs, expiry notices.

- ``owned_commitments``: one commitment an organisation owns, as the provider's API lists it
  (:class:`cloudoptima.domain.owned_commitments.OwnedCommitment`): provider, account, id and ARN, kind
  (``reserved_instance`` / ``savings_plan``), type, region, instance type/family/count, hourly commitment,
  upfront, currency, payment option, term, ``[start_at, end_at)`` (UTC), provider state, ``collected_at``.
  One row per (organisation, provider, commitment id): a newer read replaces the row.
- ``commitment_expiry_notices``: a ``commitment.expiring`` notice sent for one commitment at one threshold
  (days ahead), so each is sent once; ``notification_rules.event_type`` admits ``commitment.expiring``.

Revision ID: 0037_owned_commitments
"""

from alembic import op

revision = "0037_owned_commitments"
down_revision = "0036_ticket_trackers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE owned_commitments (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            provider VARCHAR(16) NOT NULL,
            account_id TEXT NOT NULL,
            commitment_id TEXT NOT NULL,
            arn TEXT,
            kind VARCHAR(32) NOT NULL,
            plan_type TEXT,
            region TEXT,
            instance_type TEXT,
            instance_family TEXT,
            instance_count INTEGER,
            hourly_commitment NUMERIC(38, 12),
            upfront NUMERIC(38, 12),
            currency VARCHAR(3) NOT NULL,
            payment_option TEXT,
            term_seconds BIGINT NOT NULL,
            start_at TIMESTAMP WITH TIME ZONE NOT NULL,
            end_at TIMESTAMP WITH TIME ZONE NOT NULL,
            state VARCHAR(32) NOT NULL,
            collected_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT uq_owned_commitments UNIQUE (organization_id, provider, commitment_id),
            CONSTRAINT ck_owned_commitments_kind CHECK (kind IN ('reserved_instance', 'savings_plan')),
            CONSTRAINT ck_owned_commitments_period CHECK (start_at < end_at)
        );
        CREATE INDEX ix_owned_commitments_org_end ON owned_commitments (organization_id, end_at);
        ALTER TABLE notification_rules DROP CONSTRAINT ck_notification_rules_event_type;
        ALTER TABLE notification_rules ADD CONSTRAINT ck_notification_rules_event_type CHECK (event_type IN (
            'budget.actual', 'budget.forecasted', 'anomaly.detected', 'recommendation.created',
            'approval.requested', 'execution.succeeded', 'execution.failed', 'collection.failed', 'report.ready',
            'commitment.expiring'
        ));
        CREATE TABLE commitment_expiry_notices (
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            owned_commitment_id UUID NOT NULL REFERENCES owned_commitments (id) ON DELETE CASCADE,
            threshold_days INTEGER NOT NULL,
            notified_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_commitment_expiry_notices PRIMARY KEY (owned_commitment_id, threshold_days)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE commitment_expiry_notices;
        DROP TABLE owned_commitments;
        DELETE FROM notification_rules WHERE event_type = 'commitment.expiring';
        ALTER TABLE notification_rules DROP CONSTRAINT ck_notification_rules_event_type;
        ALTER TABLE notification_rules ADD CONSTRAINT ck_notification_rules_event_type CHECK (event_type IN (
            'budget.actual', 'budget.forecasted', 'anomaly.detected', 'recommendation.created',
            'approval.requested', 'execution.succeeded', 'execution.failed', 'collection.failed', 'report.ready'
        ));
        """
    )
