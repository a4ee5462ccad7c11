"""Cloud accounts keep the permission problems of their last collection (issue #15: a read the credentials
were not allowed to make is shown on the account, never a silent gap). ``permission_problems`` is a JSON
list of ``PermissionProblem.as_json()`` (step, permission, purpose, message); empty when nothing was denied.

Revision ID: 0014_permission_problems
"""

from alembic import op

revision = "0014_permission_problems"
down_revision = "0013_price_store"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE cloud_accounts ADD COLUMN permission_problems JSONB DEFAULT '[]'::jsonb NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE cloud_accounts DROP COLUMN permission_problems")
