"""Overdue accepted recommendations notify their owner once per due date (#22).

- ``recommendations.overdue_notified_for``: the due date for which the ``recommendation.overdue`` notice was
  sent (NULL: never). A notice is due while it differs from ``due_date``, so a new due date notifies again.
- ``notification_rules.event_type`` admits ``recommendation.overdue``.

Revision ID: 0040_recommendation_overdue
"""

from alembic import op

revision = "0040_recommendation_overdue"
down_revision = "0039_owned_commitments_clouds"
branch_labels = None
depends_on = None

_BEFORE = (
    "'budget.actual', 'budget.forecasted', 'anomaly.detected', 'recommendation.created', "
    "'approval.requested', 'execution.succeeded', 'execution.failed', 'collection.failed', 'report.ready', "
    "'commitment.expiring'"
)


def upgrade() -> None:
    op.execute(
        f"""
        ALTER TABLE recommendations ADD COLUMN overdue_notified_for DATE;
        ALTER TABLE notification_rules DROP CONSTRAINT ck_notification_rules_event_type;
        ALTER TABLE notification_rules ADD CONSTRAINT ck_notification_rules_event_type
            CHECK (event_type IN ({_BEFORE}, 'recommendation.overdue'));
        """
    )


def downgrade() -> None:
    op.execute(
        f"""
        DELETE FROM notification_rules WHERE event_type = 'recommendation.overdue';
        ALTER TABLE notification_rules DROP CONSTRAINT ck_notification_rules_event_type;
        ALTER TABLE notification_rules ADD CONSTRAINT ck_notification_rules_event_type
            CHECK (event_type IN ({_BEFORE}));
        ALTER TABLE recommendations DROP COLUMN overdue_notified_for;
        """
    )
