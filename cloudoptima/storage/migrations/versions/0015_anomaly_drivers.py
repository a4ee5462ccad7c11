"""Anomaly drivers: what changed inside an incident's top cell (resources, usage types, tag values).

``anomalies.drivers`` holds ``{"resources": [...], "usage_types": [...], "tags": [...]}``, each entry
``{"key", "label", "actual", "expected", "change", "share_percent", "new"}`` (money as decimal strings),
computed by ``services.anomaly_drivers`` when the incident is detected or updated. ``NULL`` for incidents
stored before this revision until the next analysis updates them.

Revision ID: 0015_anomaly_drivers
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015_anomaly_drivers"
down_revision = "0014_permission_problems"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("anomalies", sa.Column("drivers", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("anomalies", "drivers")
