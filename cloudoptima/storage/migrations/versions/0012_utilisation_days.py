"""Utilisation history by day: one row per (account, resource, metric, UTC day) with 24 hourly values.

``utilisation_daily`` replaces ``utilisation_hourly`` (migration 0011): the same samples (the hour's mean;
``NULL`` for an hour without one) in 24× fewer rows, so a first collection of many accounts — 30 days of
hourly backfill each — writes and indexes a twenty-fourth of the tuples. Monthly partitions on ``day``
(created on demand, dropped whole by the retention); primary key leading with the account; no foreign keys
(like ``cost_data``). Stored samples are moved over, then the hourly table is dropped. Downgrade moves
them back.

Revision ID: 0012_utilisation_days
"""

from alembic import op

revision = "0012_utilisation_days"
down_revision = "0011_utilisation_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE utilisation_daily (
            organization_id UUID NOT NULL,
            cloud_account_id UUID NOT NULL,
            resource_id TEXT NOT NULL,
            metric VARCHAR(32) NOT NULL,
            day DATE NOT NULL,
            hours DOUBLE PRECISION[] NOT NULL,
            CONSTRAINT pk_utilisation_daily PRIMARY KEY (cloud_account_id, resource_id, metric, day),
            CONSTRAINT ck_utilisation_daily_24_hours CHECK (cardinality(hours) = 24)
        ) PARTITION BY RANGE (day)
        """
    )
    # One partition per month that holds hourly samples, then the samples, placed at their hour.
    op.execute(
        """
        DO $$
        DECLARE month date;
        BEGIN
            FOR month IN
                SELECT DISTINCT CAST(date_trunc('month', hour AT TIME ZONE 'UTC') AS date) FROM utilisation_hourly
            LOOP
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF utilisation_daily FOR VALUES FROM (%L) TO (%L)',
                    'utilisation_daily_y' || to_char(month, 'YYYY') || 'm' || to_char(month, 'MM'),
                    month, CAST(month + interval '1 month' AS date)
                );
            END LOOP;
        END $$
        """
    )
    op.execute(
        """
        INSERT INTO utilisation_daily (organization_id, cloud_account_id, resource_id, metric, day, hours)
        SELECT organization_id, cloud_account_id, resource_id, metric, day,
               ARRAY(
                   SELECT CAST(by_hour ->> CAST(h AS text) AS double precision)
                   FROM generate_series(0, 23) AS h ORDER BY h
               )
        FROM (
            SELECT organization_id, cloud_account_id, resource_id, metric,
                   CAST(hour AT TIME ZONE 'UTC' AS date) AS day,
                   jsonb_object_agg(CAST(extract(hour FROM hour AT TIME ZONE 'UTC') AS int), value) AS by_hour
            FROM utilisation_hourly GROUP BY 1, 2, 3, 4, 5
        ) g
        """
    )
    op.execute("DROP TABLE utilisation_hourly")


def downgrade() -> None:
    op.execute(
        """
        CREATE TABLE utilisation_hourly (
            organization_id UUID NOT NULL,
            cloud_account_id UUID NOT NULL,
            resource_id TEXT NOT NULL,
            metric VARCHAR(32) NOT NULL,
            hour TIMESTAMP WITH TIME ZONE NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            CONSTRAINT pk_utilisation_hourly PRIMARY KEY (cloud_account_id, resource_id, metric, hour)
        ) PARTITION BY RANGE (hour)
        """
    )
    op.execute(
        """
        DO $$
        DECLARE month date;
        BEGIN
            FOR month IN SELECT DISTINCT CAST(date_trunc('month', day) AS date) FROM utilisation_daily LOOP
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF utilisation_hourly FOR VALUES FROM (%L) TO (%L)',
                    'utilisation_hourly_y' || to_char(month, 'YYYY') || 'm' || to_char(month, 'MM'),
                    to_char(month, 'YYYY-MM-DD') || 'T00:00:00+00',
                    to_char(month + interval '1 month', 'YYYY-MM-DD') || 'T00:00:00+00'
                );
            END LOOP;
        END $$
        """
    )
    op.execute(
        """
        INSERT INTO utilisation_hourly (organization_id, cloud_account_id, resource_id, metric, hour, value)
        SELECT d.organization_id, d.cloud_account_id, d.resource_id, d.metric,
               (CAST(d.day AS timestamp) AT TIME ZONE 'UTC') + (u.i - 1) * interval '1 hour', u.v
        FROM utilisation_daily d CROSS JOIN LATERAL unnest(d.hours) WITH ORDINALITY AS u(v, i)
        WHERE u.v IS NOT NULL
        """
    )
    op.execute("DROP TABLE utilisation_daily")
