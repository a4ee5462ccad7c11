"""Semantic memory: organisation-scoped pgvector items (past anomalies, recommendations, runbook entries)
that the agents recall by similarity. LangGraph's Postgres checkpointer creates its own tables at setup.

Revision ID: 0006_memory
"""

from alembic import op

revision = "0006_memory"
down_revision = "0005_remediation"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE memory_items (
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    kind VARCHAR(32) NOT NULL,
    ref_id TEXT NOT NULL,
    text TEXT NOT NULL,
    embedding vector(384) NOT NULL,
    metadata JSONB DEFAULT '{}'::jsonb NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_memory_items PRIMARY KEY (id),
    CONSTRAINT fk_memory_items_organization_id_organizations FOREIGN KEY (organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT ck_memory_items_kind CHECK (kind IN ('anomaly', 'recommendation', 'runbook')),
    CONSTRAINT uq_memory_items_org_kind_ref UNIQUE (organization_id, kind, ref_id)
);
CREATE INDEX ix_memory_items_org_kind ON memory_items (organization_id, kind);
CREATE INDEX ix_memory_items_embedding ON memory_items USING hnsw (embedding vector_cosine_ops);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS memory_items;
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(DOWNGRADE)
