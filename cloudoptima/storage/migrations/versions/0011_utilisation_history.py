"""Utilisation history: hourly samples per resource and metric, partitioned by month.

``utilisation_hourly`` keeps one value (the hour's mean, as the clouds report hourly data) per
(cloud account, resource, metric, hour). Monthly partitions are created on demand
(``storage.partitions.ensure_month_partitions``) and whole months older than the retention are dropped
(``storage.utilisation_history.prune``). The primary key leads with the account, so every account-scoped
read and upsert uses it; statements always also filter the organisation. Like ``cost_data`` it has no
foreign keys (a per-row check on a fact table this size costs more than the write itself): purging an
account deletes its history explicitly (``CloudAccountService.disconnect(purge=True)``). ``utilisation_cursors`` records,
per resource, the day up to which its series was read (also when the cloud had no samples, as for a
stopped instance), so a later collection continues from there instead of reading the backfill again.

Revision ID: 0011_utilisation_history
"""

from alembic import op

revision = "0011_utilisation_history"
down_revision = "0010_account_scoped_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE utilisation_hourly (
            organization_id UUID NOT NULL,
            cloud_account_id UUID NOT NULL,
            resource_id TEXT NOT NULL,
            metric VARCHAR(32) NOT NULL,
            hour TIMESTAMP WITH TIME ZONE NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            CONSTRAINT pk_utilisation_hourly PRIMARY KEY (cloud_account_id, resource_id, metric, hour)
        ) PARTITION BY RANGE (hour)
        """
    )
    op.execute(
        """
        CREATE TABLE utilisation_cursors (
            organization_id UUID NOT NULL,
            cloud_account_id UUID NOT NULL,
            resource_id TEXT NOT NULL,
            read_until DATE NOT NULL,
            CONSTRAINT pk_utilisation_cursors PRIMARY KEY (cloud_account_id, resource_id),
            CONSTRAINT fk_utilisation_cursors_organization_id_organizations FOREIGN KEY (organization_id)
                REFERENCES organizations (id) ON DELETE CASCADE,
            CONSTRAINT fk_utilisation_cursors_cloud_account_id_cloud_accounts FOREIGN KEY (cloud_account_id)
                REFERENCES cloud_accounts (id) ON DELETE CASCADE
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE utilisation_cursors")
    op.execute("DROP TABLE utilisation_hourly")
