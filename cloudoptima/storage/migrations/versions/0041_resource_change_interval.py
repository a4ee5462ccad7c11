"""When a change seen in the inventory happened, as an interval (#22, realised savings of hand changes).

- ``resources.previous_seen``: the last sighting of the resource *before* its latest change (``last_updated``
  is the first sighting after it; a resource marked deleted: its last sighting). NULL: not known (stored
  before this revision, or never changed since it was first stored).
- ``recommendations.changed_after``: for a recommendation applied by hand whose change time is not the
  cloud's own, the last collection that saw the old state; the change happened in
  ``(changed_after, applied_at]``. NULL: ``applied_at`` is exact.

Revision ID: 0041_resource_change_interval
"""

from alembic import op

revision = "0041_resource_change_interval"
down_revision = "0040_recommendation_overdue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE resources ADD COLUMN previous_seen TIMESTAMPTZ;
        ALTER TABLE recommendations ADD COLUMN changed_after TIMESTAMPTZ;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE recommendations DROP COLUMN changed_after;
        ALTER TABLE resources DROP COLUMN previous_seen;
        """
    )
