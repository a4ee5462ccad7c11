"""Who wrote an anomaly's ``root_cause``: the deterministic contribution text or the root-cause agent.

The detection run keeps an agent's explanation while the incident's numbers are unchanged, and the analysis
step re-explains only incidents whose text is the deterministic one.

Revision ID: 0007_root_cause_source
"""

from alembic import op

revision = "0007_root_cause_source"
down_revision = "0006_memory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE anomalies ADD COLUMN root_cause_source VARCHAR(40) DEFAULT 'contributions' NOT NULL"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE anomalies DROP COLUMN root_cause_source")
