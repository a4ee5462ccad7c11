"""Cost exports (#21): scheduled exports and the record of every export run.

- ``cost_export_schedules``: a recurring export of one organisation: dataset, format, partitioning, the
  destination (``{"kind": "folder", "path": ...}`` under the configured root, or ``{"kind": "s3", "bucket",
  "prefix", "endpoint_url", "region"}``; never credentials), and the recurrence as report schedules have it
  (frequency, day of week or month, local time, IANA zone), enabled flag and its Temporal Schedule id.
- ``cost_export_runs``: one export (scheduled or one-off): the request (dataset, format, partition, period,
  destination), status ``running | succeeded | failed``, the error, the published manifest (JSON) and times.
  A schedule's runs stay when it is deleted (``schedule_id`` becomes NULL).

Revision ID: 0030_cost_exports
"""

from alembic import op

revision = "0030_cost_exports"
down_revision = "0029_allocation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE cost_export_schedules (
            id UUID PRIMARY KEY,
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            name VARCHAR(200) NOT NULL,
            dataset VARCHAR(64) NOT NULL,
            format VARCHAR(16) NOT NULL CHECK (format IN ('csv', 'parquet')),
            partition VARCHAR(8) NOT NULL CHECK (partition IN ('month', 'day')),
            destination JSONB NOT NULL,
            frequency VARCHAR(8) NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
            day_of_week SMALLINT,
            day_of_month SMALLINT,
            time_of_day VARCHAR(5) NOT NULL,
            timezone TEXT NOT NULL,
            enabled BOOLEAN NOT NULL DEFAULT TRUE,
            temporal_schedule_id TEXT NOT NULL,
            created_by UUID,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL
        );
        CREATE INDEX ix_cost_export_schedules_org ON cost_export_schedules (organization_id, created_at);

        CREATE TABLE cost_export_runs (
            id UUID PRIMARY KEY,
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            schedule_id UUID REFERENCES cost_export_schedules (id) ON DELETE SET NULL,
            dataset VARCHAR(64) NOT NULL,
            format VARCHAR(16) NOT NULL,
            partition VARCHAR(8) NOT NULL,
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            destination JSONB NOT NULL,
            status VARCHAR(10) NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
            error TEXT,
            manifest JSONB,
            requested_by UUID,
            started_at TIMESTAMP WITH TIME ZONE NOT NULL,
            finished_at TIMESTAMP WITH TIME ZONE
        );
        CREATE INDEX ix_cost_export_runs_org ON cost_export_runs (organization_id, started_at DESC);
        CREATE UNIQUE INDEX ux_cost_export_runs_schedule_start
            ON cost_export_runs (schedule_id, started_at) WHERE schedule_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE cost_export_runs; DROP TABLE cost_export_schedules;")
