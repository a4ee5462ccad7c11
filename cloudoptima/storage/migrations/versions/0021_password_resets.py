"""Password resets and platform administrators.

``password_reset_tokens``: one row per emailed reset link; only the SHA-256 of the link's secret is stored,
with its expiry and the time it was used (single use). Deleting the user deletes their reset tokens.
``users.is_platform_admin``: operators of the platform (granted only from the command line,
``cloudoptima users platform-admin``); only they may change an organisation's subscription tier.

Revision ID: 0021_password_resets
"""

from alembic import op

revision = "0021_password_resets"
down_revision = "0020_policy_firings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE password_reset_tokens (
            id UUID DEFAULT gen_random_uuid() NOT NULL,
            organization_id UUID NOT NULL,
            user_id UUID NOT NULL,
            token_hash VARCHAR(128) NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
            used_at TIMESTAMP WITH TIME ZONE,
            CONSTRAINT pk_password_reset_tokens PRIMARY KEY (id),
            CONSTRAINT fk_password_reset_tokens_user_id_users
                FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
            CONSTRAINT fk_password_reset_tokens_organization_id_organizations
                FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
            CONSTRAINT uq_password_reset_tokens_token_hash UNIQUE (token_hash)
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_password_reset_tokens_organization_id ON password_reset_tokens (organization_id)"
    )
    op.execute("CREATE INDEX ix_password_reset_tokens_user_id ON password_reset_tokens (user_id)")
    op.execute("ALTER TABLE users ADD COLUMN is_platform_admin BOOLEAN NOT NULL DEFAULT false")


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN is_platform_admin")
    op.execute("DROP TABLE password_reset_tokens")
