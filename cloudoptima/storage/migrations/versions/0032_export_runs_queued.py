"""Cost exports (#21 E): runs started through the API are queued first; FOCUS version of ``focus_raw``.

- ``cost_export_runs.status`` also takes ``queued`` (a run the API recorded and handed to the
  ``RunCostExport`` workflow, not started yet): ``queued -> running -> succeeded | failed``.
- ``cost_export_runs.focus_version`` and ``cost_export_schedules.focus_version``: the FOCUS version whose
  columns ``focus_raw`` writes (``1.2`` or ``1.3``); NULL for the other datasets (and for ``focus_raw`` rows
  written before, which were 1.2).

Revision ID: 0032_export_runs_queued
"""

from alembic import op

revision = "0032_export_runs_queued"
down_revision = "0031_provider_month_totals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE cost_export_runs DROP CONSTRAINT cost_export_runs_status_check;
        ALTER TABLE cost_export_runs ADD CONSTRAINT cost_export_runs_status_check
            CHECK (status IN ('queued', 'running', 'succeeded', 'failed'));
        ALTER TABLE cost_export_runs
            ADD COLUMN focus_version VARCHAR(8) CHECK (focus_version IN ('1.2', '1.3'));
        ALTER TABLE cost_export_schedules
            ADD COLUMN focus_version VARCHAR(8) CHECK (focus_version IN ('1.2', '1.3'));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM cost_export_runs WHERE status = 'queued';
        ALTER TABLE cost_export_schedules DROP COLUMN focus_version;
        ALTER TABLE cost_export_runs DROP COLUMN focus_version;
        ALTER TABLE cost_export_runs DROP CONSTRAINT cost_export_runs_status_check;
        ALTER TABLE cost_export_runs ADD CONSTRAINT cost_export_runs_status_check
            CHECK (status IN ('running', 'succeeded', 'failed'));
        """
    )
