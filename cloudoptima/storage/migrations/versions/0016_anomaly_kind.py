"""Anomaly kind: ``anomaly`` (a spike or dip judged against the series' own noise) or ``change`` (a lasting
step of level — a launch, a decommission — reported once, from its first day).

Revision ID: 0016_anomaly_kind
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_anomaly_kind"
down_revision = "0015_anomaly_drivers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "anomalies", sa.Column("kind", sa.String(16), nullable=False, server_default=sa.text("'anomaly'"))
    )


def downgrade() -> None:
    op.drop_column("anomalies", "kind")
