"""Recommendation narratives are stored on the recommendation, keyed by their evidence and writer.

``narratives`` holds ``{"key", "engineer", "finance", "source", "written_at"}``; ``key`` is a hash of the
evidence (the impact preview and figures the text is grounded in) and of the model that wrote it, so a
narrative is written once and rewritten only when the evidence or the configured model changes.

Revision ID: 0008_recommendation_narratives
"""

from alembic import op

revision = "0008_recommendation_narratives"
down_revision = "0007_root_cause_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE recommendations ADD COLUMN narratives JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE recommendations DROP COLUMN narratives")
