"""Migration 0012 moves stored hourly samples into day rows (and back on downgrade) without losing one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cloudoptima.embedded import postgres
from cloudoptima.storage.migrate import alembic_config, upgrade

BEFORE, AFTER = "0011_utilisation_history", "0012_utilisation_days"


def _samples(url: str, query: str) -> set[tuple[str, str, datetime, float]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {(str(r[0]), str(r[1]), r[2], float(r[3])) for r in connection.execute(text(query))}
    finally:
        engine.dispose()


def test_hourly_samples_survive_the_move_to_day_rows_and_back(pg_url: str) -> None:
    port = make_url(pg_url).port
    assert port is not None
    name = f"migration_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(port, name)
    url = postgres.url_for(port, name)
    upgrade(url, BEFORE)
    org, account = uuid.uuid4(), uuid.uuid4()
    # Two months, a gap (hour 5 of the first day has no sample), a value with many digits, two metrics.
    start = datetime(2026, 10, 31, 0, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(30) if h != 5]
    engine = create_engine(url)
    with engine.begin() as connection:
        for month in ("2026-10-01", "2026-11-01"):
            end = "2026-11-01" if month == "2026-10-01" else "2026-12-01"
            connection.execute(
                text(
                    f"CREATE TABLE utilisation_hourly_y{month[:4]}m{month[5:7]} PARTITION OF utilisation_hourly "
                    f"FOR VALUES FROM ('{month}T00:00:00+00') TO ('{end}T00:00:00+00')"
                )
            )
        for metric, scale in (("cpu_percent", 1.0), ("network_in_bytes", 1234.5678901234)):
            for index, hour in enumerate(hours):
                connection.execute(
                    text(
                        "INSERT INTO utilisation_hourly VALUES (:org, :account, 'i-1', :metric, :hour, :value)"
                    ),
                    {
                        "org": org,
                        "account": account,
                        "metric": metric,
                        "hour": hour,
                        "value": index * scale / 7,
                    },
                )
    engine.dispose()
    hourly = "SELECT resource_id, metric, hour, value FROM utilisation_hourly"
    before = _samples(url, hourly)
    assert len(before) == 2 * 29

    upgrade(url, AFTER)
    moved = _samples(
        url,
        "SELECT d.resource_id, d.metric, (CAST(d.day AS timestamp) AT TIME ZONE 'UTC') + (u.i - 1) * interval '1 hour',"
        " u.v FROM utilisation_daily d CROSS JOIN LATERAL unnest(d.hours) WITH ORDINALITY AS u(v, i) "
        "WHERE u.v IS NOT NULL",
    )
    assert moved == before
    rows = _samples(
        url, "SELECT resource_id, metric, CAST(day AS timestamptz), cardinality(hours) FROM utilisation_daily"
    )
    assert len(rows) == 2 * 2 and {r[3] for r in rows} == {24.0}

    command.downgrade(alembic_config(url), BEFORE)
    assert _samples(url, hourly) == before
