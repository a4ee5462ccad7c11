"""Tickets (#22): a tracker connection per organisation and the ticket handed to it for a recommendation.

- ``ticket_trackers``: kind (github | jira | webhook), base URL, project (``owner/repo`` for GitHub, project key for
  Jira), an optional login (Jira e-mail), the token encrypted (never returned).
- ``recommendation_tickets``: one ticket per recommendation (tracker, external key, URL, last state seen).

Revision ID: 0036_ticket_trackers
"""

from alembic import op

revision = "0036_ticket_trackers"
down_revision = "0035_recommendation_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ticket_trackers (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            name VARCHAR(100) NOT NULL,
            kind VARCHAR(20) NOT NULL,
            base_url TEXT NOT NULL,
            project VARCHAR(200) NOT NULL,
            login VARCHAR(200),
            token_encrypted TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            CONSTRAINT uq_ticket_trackers_org_name UNIQUE (organization_id, name)
        );
        CREATE TABLE recommendation_tickets (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            recommendation_id UUID NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
            tracker_id UUID NOT NULL REFERENCES ticket_trackers (id) ON DELETE CASCADE,
            external_key VARCHAR(200) NOT NULL,
            url TEXT NOT NULL,
            state VARCHAR(30) NOT NULL DEFAULT 'open',
            created_at TIMESTAMPTZ NOT NULL,
            synced_at TIMESTAMPTZ,
            CONSTRAINT uq_recommendation_tickets_rec UNIQUE (recommendation_id)
        );
        CREATE INDEX ix_recommendation_tickets_org_state ON recommendation_tickets (organization_id, state);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE recommendation_tickets;
        DROP TABLE ticket_trackers;
        """
    )
