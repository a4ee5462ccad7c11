"""Reports: generated reports (one row per run, ad hoc or scheduled) and their schedules.

- ``report_schedules``: a recurring report of an organisation: ``template_id``, ``parameters`` (JSONB; a
  scheduled run resolves relative periods such as "last full month" at its own time), ``format``
  (``pdf``, ``excel``, ``csv``, ``json``), ``delivery`` (JSONB: ``method`` and its fields), the recurrence
  (``frequency`` daily/weekly/monthly, ``day_of_week`` 0 = Monday … 6, ``day_of_month`` 1–28, ``time_of_day``
  ``HH:MM``, ``timezone`` an IANA name), ``recipients``, ``enabled`` and the id of the Temporal Schedule that
  fires it (``temporal_schedule_id``, unique).
- ``reports``: one generation. ``status`` is ``generating``, ``completed`` or ``failed`` (``error`` says why);
  ``schedule_id`` links a scheduled run to its schedule (NULL for ad hoc); the artifact's ``artifact_key``
  (its path in the report store), ``content_type``, ``size_bytes`` and ``sha256``; ``delivery_status``
  (``pending``, ``delivered``, ``failed``) with ``delivery_error``; ``expires_at`` ends the download link.
  ``ix_reports_org_created`` serves the newest-first list.

Revision ID: 0025_reports
"""

from alembic import op

revision = "0025_reports"
down_revision = "0024_notification_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE report_schedules (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            name VARCHAR(200) NOT NULL,
            template_id VARCHAR(64) NOT NULL,
            parameters JSONB NOT NULL DEFAULT '{}'::jsonb,
            format VARCHAR(8) NOT NULL,
            delivery JSONB NOT NULL DEFAULT '{}'::jsonb,
            frequency VARCHAR(8) NOT NULL,
            day_of_week SMALLINT,
            day_of_month SMALLINT,
            time_of_day VARCHAR(5) NOT NULL,
            timezone VARCHAR(64) NOT NULL,
            recipients JSONB NOT NULL DEFAULT '[]'::jsonb,
            enabled BOOLEAN NOT NULL DEFAULT true,
            temporal_schedule_id VARCHAR(200) NOT NULL,
            created_by UUID REFERENCES users (id) ON DELETE SET NULL,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_report_schedules PRIMARY KEY (id),
            CONSTRAINT uq_report_schedules_temporal_id UNIQUE (temporal_schedule_id),
            CONSTRAINT ck_report_schedules_format CHECK (format IN ('pdf', 'excel', 'csv', 'json')),
            CONSTRAINT ck_report_schedules_frequency CHECK (frequency IN ('daily', 'weekly', 'monthly')),
            CONSTRAINT ck_report_schedules_day_of_week CHECK (day_of_week IS NULL OR day_of_week BETWEEN 0 AND 6),
            CONSTRAINT ck_report_schedules_day_of_month CHECK (day_of_month IS NULL OR day_of_month BETWEEN 1 AND 28)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE reports (
            id UUID NOT NULL DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            template_id VARCHAR(64) NOT NULL,
            parameters JSONB NOT NULL DEFAULT '{}'::jsonb,
            format VARCHAR(8) NOT NULL,
            delivery JSONB NOT NULL DEFAULT '{}'::jsonb,
            status VARCHAR(16) NOT NULL,
            error TEXT,
            schedule_id UUID REFERENCES report_schedules (id) ON DELETE SET NULL,
            requested_by UUID REFERENCES users (id) ON DELETE SET NULL,
            artifact_key TEXT,
            content_type VARCHAR(100),
            size_bytes BIGINT,
            sha256 VARCHAR(64),
            delivery_status VARCHAR(16),
            delivery_error TEXT,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            completed_at TIMESTAMP WITH TIME ZONE,
            expires_at TIMESTAMP WITH TIME ZONE,
            CONSTRAINT pk_reports PRIMARY KEY (id),
            CONSTRAINT ck_reports_format CHECK (format IN ('pdf', 'excel', 'csv', 'json')),
            CONSTRAINT ck_reports_status CHECK (status IN ('generating', 'completed', 'failed')),
            CONSTRAINT ck_reports_delivery_status
                CHECK (delivery_status IS NULL OR delivery_status IN ('pending', 'delivered', 'failed'))
        )
        """
    )
    op.execute("CREATE INDEX ix_reports_org_created ON reports (organization_id, created_at DESC, id DESC)")
    op.execute(
        "CREATE INDEX ix_reports_schedule ON reports (schedule_id, created_at DESC) WHERE schedule_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE reports")
    op.execute("DROP TABLE report_schedules")
