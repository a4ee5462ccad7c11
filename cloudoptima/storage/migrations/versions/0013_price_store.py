"""Price store: providers' list prices and the outcome of the last refresh per provider.

Global reference data (no organisation column): ``list_prices`` has one row per
``(provider, kind, region, sku)`` with its source and fetch time; ``price_refreshes`` one row per provider
with the last attempt's status and error. A refresh replaces one provider's rows in one transaction.

Revision ID: 0013_price_store
"""

from alembic import op

revision = "0013_price_store"
down_revision = "0012_utilisation_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE list_prices (
            provider VARCHAR(20) NOT NULL,
            kind VARCHAR(32) NOT NULL,
            region TEXT NOT NULL,
            sku TEXT NOT NULL,
            unit_price NUMERIC NOT NULL,
            unit VARCHAR(16) NOT NULL,
            service TEXT NOT NULL,
            provider_sku_id TEXT,
            family TEXT,
            vcpu INTEGER,
            memory_gib NUMERIC,
            source TEXT NOT NULL,
            fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_list_prices PRIMARY KEY (provider, kind, region, sku)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE price_refreshes (
            provider VARCHAR(20) NOT NULL,
            status VARCHAR(16) NOT NULL,
            source TEXT NOT NULL,
            attempted_at TIMESTAMP WITH TIME ZONE NOT NULL,
            succeeded_at TIMESTAMP WITH TIME ZONE,
            price_count INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            CONSTRAINT pk_price_refreshes PRIMARY KEY (provider)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE price_refreshes")
    op.execute("DROP TABLE list_prices")
