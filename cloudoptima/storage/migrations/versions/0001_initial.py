"""Initial schema: the seed's tables (§4.1), its document collections as JSONB (§4.2), auth bookkeeping.

``cost_data`` is range-partitioned by month on ``charge_period_start``; partitions are created on demand by
``cloudoptima.storage.partitions.ensure_cost_partitions``. It is an append-mostly fact table loaded with COPY:
no primary-key index and no foreign keys (each costs ~10-20% of load speed); the loader and the account and
organisation deletions keep it consistent. Enables pgvector.

Revision ID: 0001_initial
"""

from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE organizations (
    name VARCHAR(255) NOT NULL,
    subscription_tier VARCHAR(50) NOT NULL,
    settings JSONB NOT NULL,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_organizations PRIMARY KEY (id)
);

CREATE TABLE revoked_tokens (
    jti VARCHAR(64) NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    revoked_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_revoked_tokens PRIMARY KEY (jti)
);

CREATE TABLE audit_logs (
    user_id UUID,
    timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
    action VARCHAR(100) NOT NULL,
    resource_type VARCHAR(64),
    resource_id TEXT,
    details JSONB NOT NULL,
    ip_address VARCHAR(64),
    user_agent TEXT,
    result VARCHAR(20) NOT NULL,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_audit_logs PRIMARY KEY (id),
    CONSTRAINT fk_audit_logs_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_audit_logs_action ON audit_logs (action);
CREATE INDEX ix_audit_logs_org_time ON audit_logs (organization_id, timestamp);
CREATE INDEX ix_audit_logs_organization_id ON audit_logs (organization_id);
CREATE INDEX ix_audit_logs_user_time ON audit_logs (user_id, timestamp);

CREATE TABLE budgets (
    name VARCHAR(255) NOT NULL,
    amount NUMERIC(15, 2) NOT NULL,
    currency VARCHAR(3) NOT NULL,
    period VARCHAR(20) NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    scope_type VARCHAR(50),
    scope_filters JSONB,
    alert_thresholds JSONB,
    alert_state JSONB NOT NULL,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_budgets PRIMARY KEY (id),
    CONSTRAINT fk_budgets_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_budgets_organization_id ON budgets (organization_id);

CREATE TABLE cloud_accounts (
    provider VARCHAR(20) NOT NULL,
    account_identifier VARCHAR(255) NOT NULL,
    account_name VARCHAR(255),
    credentials_encrypted TEXT NOT NULL,
    settings JSONB NOT NULL,
    status VARCHAR(50) NOT NULL,
    verification_status VARCHAR(20) NOT NULL,
    verification_error TEXT,
    last_sync_at TIMESTAMP WITH TIME ZONE,
    monthly_spend NUMERIC(15, 2),
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_cloud_accounts PRIMARY KEY (id),
    CONSTRAINT uq_cloud_accounts_organization_id UNIQUE (organization_id, provider, account_identifier),
    CONSTRAINT fk_cloud_accounts_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_cloud_accounts_organization_id ON cloud_accounts (organization_id);

CREATE TABLE policies (
    name VARCHAR(255) NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL,
    trigger_config JSONB NOT NULL,
    conditions JSONB NOT NULL,
    actions JSONB NOT NULL,
    safety_controls JSONB,
    last_executed_at TIMESTAMP WITH TIME ZONE,
    execution_count INTEGER NOT NULL,
    success_count INTEGER NOT NULL,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_policies PRIMARY KEY (id),
    CONSTRAINT fk_policies_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_policies_organization_id ON policies (organization_id);

CREATE TABLE recommendations (
    fingerprint VARCHAR(128),
    title VARCHAR(500) NOT NULL,
    description TEXT,
    category VARCHAR(100) NOT NULL,
    risk_level VARCHAR(20) NOT NULL,
    estimated_savings_monthly NUMERIC(15, 2),
    estimated_savings_annual NUMERIC(15, 2),
    affected_resources JSONB NOT NULL,
    actions JSONB NOT NULL,
    impact_analysis JSONB,
    status VARCHAR(50) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE,
    applied_at TIMESTAMP WITH TIME ZONE,
    dismissed_at TIMESTAMP WITH TIME ZONE,
    dismissal_reason TEXT,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_recommendations PRIMARY KEY (id),
    CONSTRAINT fk_recommendations_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_recommendations_fingerprint ON recommendations (fingerprint);
CREATE INDEX ix_recommendations_organization_id ON recommendations (organization_id);

CREATE TABLE users (
    email VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    full_name VARCHAR(255),
    role VARCHAR(50) NOT NULL,
    is_active BOOLEAN NOT NULL,
    last_login TIMESTAMP WITH TIME ZONE,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id),
    CONSTRAINT uq_users_email UNIQUE (email),
    CONSTRAINT fk_users_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_users_organization_id ON users (organization_id);

CREATE TABLE anomalies (
    cloud_account_id UUID,
    detected_at TIMESTAMP WITH TIME ZONE NOT NULL,
    service_name VARCHAR(255),
    region VARCHAR(100),
    severity VARCHAR(20) NOT NULL,
    impact_amount NUMERIC(15, 2),
    deviation_percent NUMERIC(12, 2),
    root_cause TEXT,
    contributions JSONB,
    status VARCHAR(50) NOT NULL,
    feedback VARCHAR(32),
    affected_resources JSONB,
    resolved_at TIMESTAMP WITH TIME ZONE,
    resolution_note TEXT,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_anomalies PRIMARY KEY (id),
    CONSTRAINT fk_anomalies_cloud_account_id_cloud_accounts FOREIGN KEY(cloud_account_id) REFERENCES cloud_accounts (id) ON DELETE SET NULL,
    CONSTRAINT fk_anomalies_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_anomalies_organization_id ON anomalies (organization_id);

CREATE TABLE api_keys (
    user_id UUID NOT NULL,
    name VARCHAR(255) NOT NULL,
    prefix VARCHAR(32) NOT NULL,
    key_hash TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    last_used_at TIMESTAMP WITH TIME ZONE,
    revoked_at TIMESTAMP WITH TIME ZONE,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_api_keys PRIMARY KEY (id),
    CONSTRAINT fk_api_keys_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT uq_api_keys_prefix UNIQUE (prefix),
    CONSTRAINT fk_api_keys_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_api_keys_organization_id ON api_keys (organization_id);
CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);

CREATE TABLE cost_data (
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    charge_period_start TIMESTAMP WITH TIME ZONE NOT NULL,
    cloud_account_id UUID,
    provider VARCHAR(20) NOT NULL,
    import_id UUID,
    source_file TEXT,
    source_line INTEGER,
    extensions JSONB,
    availability_zone TEXT,
    billed_cost NUMERIC NOT NULL,
    billing_account_id TEXT NOT NULL,
    billing_account_name TEXT,
    billing_account_type TEXT,
    billing_currency VARCHAR(3) NOT NULL,
    billing_period_end TIMESTAMP WITH TIME ZONE NOT NULL,
    billing_period_start TIMESTAMP WITH TIME ZONE NOT NULL,
    capacity_reservation_id TEXT,
    capacity_reservation_status TEXT,
    charge_category TEXT NOT NULL,
    charge_class TEXT,
    charge_description TEXT,
    charge_frequency TEXT,
    charge_period_end TIMESTAMP WITH TIME ZONE NOT NULL,
    commitment_discount_category TEXT,
    commitment_discount_id TEXT,
    commitment_discount_name TEXT,
    commitment_discount_quantity NUMERIC,
    commitment_discount_status TEXT,
    commitment_discount_type TEXT,
    commitment_discount_unit TEXT,
    consumed_quantity NUMERIC,
    consumed_unit TEXT,
    contracted_cost NUMERIC,
    contracted_unit_price NUMERIC,
    effective_cost NUMERIC,
    invoice_id TEXT,
    invoice_issuer_name TEXT,
    list_cost NUMERIC,
    list_unit_price NUMERIC,
    pricing_category TEXT,
    pricing_currency TEXT,
    pricing_currency_contracted_unit_price NUMERIC,
    pricing_currency_effective_cost NUMERIC,
    pricing_currency_list_unit_price NUMERIC,
    pricing_quantity NUMERIC,
    pricing_unit TEXT,
    provider_name TEXT NOT NULL,
    publisher_name TEXT,
    region_id TEXT,
    region_name TEXT,
    resource_id TEXT,
    resource_name TEXT,
    resource_type TEXT,
    service_category TEXT,
    service_name TEXT,
    service_subcategory TEXT,
    sku_id TEXT,
    sku_meter TEXT,
    sku_price_details JSONB,
    sku_price_id TEXT,
    sub_account_id TEXT,
    sub_account_name TEXT,
    sub_account_type TEXT,
    tags JSONB,
    organization_id UUID NOT NULL
) PARTITION BY RANGE (charge_period_start);
CREATE INDEX ix_cost_data_org_time ON cost_data (organization_id, charge_period_start);
CREATE INDEX ix_cost_data_org_billing_period ON cost_data (organization_id, billing_period_start);
CREATE INDEX ix_cost_data_tags ON cost_data USING gin (tags);

CREATE TABLE policy_executions (
    policy_id UUID,
    recommendation_id UUID,
    workflow_id VARCHAR(255),
    started_at TIMESTAMP WITH TIME ZONE NOT NULL,
    completed_at TIMESTAMP WITH TIME ZONE,
    status VARCHAR(50) NOT NULL,
    dry_run BOOLEAN NOT NULL,
    resources_affected INTEGER,
    execution_logs JSONB NOT NULL,
    error_message TEXT,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_policy_executions PRIMARY KEY (id),
    CONSTRAINT fk_policy_executions_policy_id_policies FOREIGN KEY(policy_id) REFERENCES policies (id) ON DELETE CASCADE,
    CONSTRAINT fk_policy_executions_recommendation_id_recommendations FOREIGN KEY(recommendation_id) REFERENCES recommendations (id) ON DELETE SET NULL,
    CONSTRAINT fk_policy_executions_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_policy_executions_organization_id ON policy_executions (organization_id);
CREATE INDEX ix_policy_executions_policy_id ON policy_executions (policy_id);
CREATE INDEX ix_policy_executions_workflow_id ON policy_executions (workflow_id);

CREATE TABLE refresh_tokens (
    user_id UUID NOT NULL,
    family_id UUID NOT NULL,
    token_hash VARCHAR(128) NOT NULL,
    issued_at TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    used_at TIMESTAMP WITH TIME ZONE,
    revoked_at TIMESTAMP WITH TIME ZONE,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_refresh_tokens PRIMARY KEY (id),
    CONSTRAINT fk_refresh_tokens_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT uq_refresh_tokens_token_hash UNIQUE (token_hash),
    CONSTRAINT fk_refresh_tokens_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX ix_refresh_tokens_organization_id ON refresh_tokens (organization_id);
CREATE INDEX ix_refresh_tokens_user_id ON refresh_tokens (user_id);

CREATE TABLE resources (
    cloud_account_id UUID,
    resource_id TEXT NOT NULL,
    resource_arn TEXT,
    resource_name TEXT,
    provider VARCHAR(20) NOT NULL,
    resource_type VARCHAR(64) NOT NULL,
    region VARCHAR(100),
    status VARCHAR(50),
    configuration JSONB NOT NULL,
    metrics JSONB NOT NULL,
    cost_monthly NUMERIC(15, 4),
    tags JSONB NOT NULL,
    optimization_score INTEGER,
    recommendations JSONB NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    last_seen TIMESTAMP WITH TIME ZONE NOT NULL,
    last_updated TIMESTAMP WITH TIME ZONE NOT NULL,
    id UUID DEFAULT gen_random_uuid() NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_resources PRIMARY KEY (id),
    CONSTRAINT uq_resources_organization_id UNIQUE (organization_id, cloud_account_id, resource_id),
    CONSTRAINT fk_resources_cloud_account_id_cloud_accounts FOREIGN KEY(cloud_account_id) REFERENCES cloud_accounts (id) ON DELETE CASCADE,
    CONSTRAINT fk_resources_organization_id_organizations FOREIGN KEY(organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ix_resources_last_seen ON resources (last_seen);
CREATE INDEX ix_resources_org_provider_type ON resources (organization_id, provider, resource_type);
CREATE INDEX ix_resources_organization_id ON resources (organization_id);
CREATE INDEX ix_resources_tags ON resources USING gin (tags);
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    for table in (
        "audit_logs",
        "resources",
        "policy_executions",
        "policies",
        "anomalies",
        "recommendations",
        "budgets",
        "cost_data",
        "refresh_tokens",
        "api_keys",
        "revoked_tokens",
        "cloud_accounts",
        "users",
        "organizations",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
