"""Recommendation lifecycle (#22): owner and due date of an accepted recommendation, snooze end, transitions.

- ``recommendations.owner_user_id`` / ``due_date``: who took an ``accepted`` recommendation on and by when.
- ``recommendations.snoozed_until``: a ``snoozed`` recommendation comes back as ``active`` (open) from then.
- ``recommendation_transitions``: every lifecycle change (who, when, from → to, reason), the ``history`` of a
  recommendation. New status values (``accepted``, ``snoozed``, ``false_positive``) live in the existing
  ``status`` column; stored values stay as they were.

Revision ID: 0035_recommendation_lifecycle
"""

from alembic import op

revision = "0035_recommendation_lifecycle"
down_revision = "0034_tag_coverage_rollup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE recommendations
            ADD COLUMN owner_user_id UUID REFERENCES users (id) ON DELETE SET NULL,
            ADD COLUMN due_date DATE,
            ADD COLUMN snoozed_until TIMESTAMPTZ;
        CREATE TABLE recommendation_transitions (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            recommendation_id UUID NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
            from_status VARCHAR(50) NOT NULL,
            to_status VARCHAR(50) NOT NULL,
            actor VARCHAR(100) NOT NULL,
            reason TEXT,
            details JSONB NOT NULL DEFAULT '{}'::jsonb,
            at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX ix_recommendation_transitions_org_rec
            ON recommendation_transitions (organization_id, recommendation_id, seq);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE recommendation_transitions;
        ALTER TABLE recommendations
            DROP COLUMN snoozed_until,
            DROP COLUMN due_date,
            DROP COLUMN owner_user_id;
        """
    )
