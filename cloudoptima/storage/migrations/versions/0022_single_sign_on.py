"""OpenID Connect single sign-on: one identity provider per organisation, pending sign-ins, linked identities.

- ``sso_providers``: the organisation's IdP (issuer URL, client id, client secret encrypted with the
  credential key ring, scopes, the claim that carries groups, group -> role mapping, default role or NULL to
  refuse people whose groups map to no role). ``slug`` names the organisation on the login URL.
- ``sso_logins``: a sign-in that was sent to the IdP and has not come back: the SHA-256 of its ``state``,
  its nonce and PKCE verifier, the redirect URI used; deleted when it comes back (single use) or expires.
- ``sso_identities``: which user an (issuer, subject) pair signs in as.

Revision ID: 0022_single_sign_on
"""

from alembic import op

revision = "0022_single_sign_on"
down_revision = "0021_password_resets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE sso_providers (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            slug VARCHAR(63) NOT NULL,
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            client_secret_encrypted TEXT NOT NULL,
            scopes TEXT NOT NULL,
            groups_claim VARCHAR(100) NOT NULL,
            group_roles JSONB NOT NULL DEFAULT '{}'::jsonb,
            default_role VARCHAR(50),
            enabled BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
            updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
            CONSTRAINT pk_sso_providers PRIMARY KEY (id),
            CONSTRAINT uq_sso_providers_organization_id UNIQUE (organization_id),
            CONSTRAINT uq_sso_providers_slug UNIQUE (slug)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE sso_logins (
            state_hash VARCHAR(64) NOT NULL,
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            provider_id UUID NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
            nonce TEXT NOT NULL,
            code_verifier TEXT NOT NULL,
            redirect_uri TEXT NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_sso_logins PRIMARY KEY (state_hash)
        )
        """
    )
    op.execute("CREATE INDEX ix_sso_logins_expires_at ON sso_logins (expires_at)")
    op.execute("CREATE INDEX ix_sso_logins_organization_id ON sso_logins (organization_id)")
    op.execute(
        """
        CREATE TABLE sso_identities (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            issuer TEXT NOT NULL,
            subject TEXT NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
            last_login_at TIMESTAMP WITH TIME ZONE,
            CONSTRAINT pk_sso_identities PRIMARY KEY (id),
            CONSTRAINT uq_sso_identities_issuer_subject UNIQUE (issuer, subject)
        )
        """
    )
    op.execute("CREATE INDEX ix_sso_identities_organization_id ON sso_identities (organization_id)")
    op.execute("CREATE INDEX ix_sso_identities_user_id ON sso_identities (user_id)")


def downgrade() -> None:
    op.execute("DROP TABLE sso_identities")
    op.execute("DROP TABLE sso_logins")
    op.execute("DROP TABLE sso_providers")
