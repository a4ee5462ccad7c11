"""The in-app inbox: one ``notifications`` row per notice per user (``cloudoptima.services.inbox``).

- ``notifications``: what the notice says (``event_type``, ``severity``, ``title``, ``summary``, ``link``,
  ``payload``), whom it is for (``organization_id``, ``user_id``), when it was posted and read.
  ``(organization_id, user_id, idempotency_key)`` is unique, so posting the same notice twice (a retried
  activity) keeps one row. ``ix_notifications_unread`` serves the unread list and count of one user, newest
  first; ``ix_notifications_user_created`` the full list.

Revision ID: 0023_notifications
"""

from alembic import op

revision = "0023_notifications"
down_revision = "0022_single_sign_on"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE notifications (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            event_type VARCHAR(64) NOT NULL,
            severity VARCHAR(16) NOT NULL,
            title VARCHAR(200) NOT NULL,
            summary TEXT NOT NULL,
            link TEXT,
            payload JSONB NOT NULL DEFAULT '{}'::jsonb,
            idempotency_key VARCHAR(200) NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            read_at TIMESTAMP WITH TIME ZONE,
            CONSTRAINT pk_notifications PRIMARY KEY (id),
            CONSTRAINT uq_notifications_idempotency_key UNIQUE (organization_id, user_id, idempotency_key),
            CONSTRAINT ck_notifications_severity CHECK (severity IN ('info', 'warning', 'critical'))
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_notifications_unread ON notifications "
        "(organization_id, user_id, created_at DESC, id DESC) WHERE read_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_notifications_user_created ON notifications "
        "(organization_id, user_id, created_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE notifications")
