"""Allocation (#21 B): the allocated rollup also carries effective cost, so showback can answer in either basis.

- ``cost_allocated_daily.effective_cost`` and ``cost_allocated_totals.effective_cost`` /
  ``shared_effective_cost``: FOCUS ``EffectiveCost`` summed as ``cost_daily`` sums it (a row without one
  counts 0), split over shared-cost targets with the same weights as the billed cost. Existing rows get 0
  until their dimension is re-allocated (``POST /v1/allocation/dimensions/{id}/reallocate``).

Revision ID: 0033_allocated_effective_cost
"""

from alembic import op

revision = "0033_allocated_effective_cost"
down_revision = "0032_export_runs_queued"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE cost_allocated_daily ADD COLUMN effective_cost NUMERIC NOT NULL DEFAULT 0")
    op.execute(
        "ALTER TABLE cost_allocated_totals ADD COLUMN effective_cost NUMERIC NOT NULL DEFAULT 0, "
        "ADD COLUMN shared_effective_cost NUMERIC NOT NULL DEFAULT 0"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE cost_allocated_totals DROP COLUMN IF EXISTS shared_effective_cost, "
        "DROP COLUMN IF EXISTS effective_cost"
    )
    op.execute("ALTER TABLE cost_allocated_daily DROP COLUMN IF EXISTS effective_cost")
