"""``cloudoptima backup`` / ``restore`` round trip on a database of its own (same embedded server as the
suite): data made, backed up, changed, restored, equal again (row counts and sums); a non-empty target
needs --force; a dump from newer code, a changed dump and a dump pg_restore rejects are refused with the
target left as it was and no staging database left behind."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.embedded.backup import BackupError, backup, restore
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.migrate import upgrade
from cloudoptima.storage.models import CostRow, Organization
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from cloudoptima_cli.app import app

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _admin(url: str) -> psycopg.Connection[Any]:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, dbname="postgres", autocommit=True
    )


def _url_for(pg_url: str, database: str) -> str:
    return make_url(pg_url).set(database=database).render_as_string(hide_password=False)


def _databases(url: str) -> set[str]:
    with _admin(url) as admin:
        return {str(r[0]) for r in admin.execute("SELECT datname FROM pg_database")}


@pytest.fixture(scope="module")
def source(pg_url: str) -> Iterator[str]:
    """A migrated database with two organisations and 40 cost rows over two monthly partitions, shared by
    the module (migrating a database takes seconds): the round trip puts it back as it was, the refusals
    test (last) changes it."""
    name = f"backup_{uuid.uuid4().hex[:8]}"
    with _admin(pg_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _url_for(pg_url, name)
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        with Session(engine) as session, session.begin():
            ensure_cost_partitions(session.connection(), months_between(date(2026, 1, 1), date(2026, 3, 1)))
            for n in range(2):
                org_id = uuid.uuid4()
                session.add(Organization(id=org_id, name=f"org-{n}", subscription_tier="free", settings={}))
                session.flush()
                for i in range(20):
                    start = datetime(2026, 1, 20, tzinfo=UTC) + timedelta(days=i)
                    cost = Decimal("1.25") * (i + 1) + n
                    session.add(
                        CostRow(
                            organization_id=org_id, provider="aws", provider_name="AWS",
                            charge_period_start=start, charge_period_end=start + timedelta(days=1),
                            billing_period_start=datetime(start.year, start.month, 1, tzinfo=UTC),
                            billing_period_end=datetime(2026, start.month + 1, 1, tzinfo=UTC),
                            billed_cost=cost, effective_cost=cost, billing_account_id="111111111111",
                            sub_account_id="111111111111", billing_currency="USD", charge_category="Usage",
                            service_name="EC2", region_id="us-east-1", resource_id=f"i-{i}",
                            resource_name=f"i-{i}", tags={"team": f"t{n}"},
                        )
                    )  # fmt: skip
        engine.dispose()
        yield url
    finally:
        with _admin(pg_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state(url: str) -> dict[str, Any]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return {
                "orgs": sorted(connection.execute(text("SELECT name FROM organizations")).scalars()),
                "rows": connection.execute(text("SELECT count(*) FROM cost_data")).scalar(),
                "billed": connection.execute(text("SELECT sum(billed_cost) FROM cost_data")).scalar(),
                "per_month": connection.execute(
                    text(
                        "SELECT date_trunc('month', charge_period_start) m, count(*), sum(effective_cost) "
                        "FROM cost_data GROUP BY m ORDER BY m"
                    )
                ).all(),
                "head": connection.execute(text("SELECT version_num FROM alembic_version")).scalar(),
            }
    finally:
        engine.dispose()


def _change(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM cost_data WHERE charge_period_start >= '2026-02-01'"))
        connection.execute(text("UPDATE cost_data SET billed_cost = billed_cost * 2"))
        connection.execute(text("UPDATE organizations SET name = name || '-renamed'"))
    engine.dispose()


def test_cli_round_trip(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    before = _state(source)
    assert before["rows"] == 40 and before["billed"] == Decimal("545.00")
    monkeypatch.setenv("DATABASE_URL", source)
    state = ["--state-dir", str(tmp_path / "state")]
    target = tmp_path / "bk"

    made = CliRunner().invoke(app, ["backup", str(target), *state])
    assert made.exit_code == 0, made.output
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["migration_head"] == before["head"]
    assert manifest["sha256"] == hashlib.sha256((target / "database.dump").read_bytes()).hexdigest()
    assert manifest["row_counts"]["public.organizations"] == 2
    assert sum(n for t, n in manifest["row_counts"].items() if t.startswith("public.cost_data_")) == 40
    again = CliRunner().invoke(app, ["backup", str(target), *state])
    assert again.exit_code == 1 and "already holds a backup" in again.output

    _change(source)
    assert _state(source) != before
    refused = CliRunner().invoke(app, ["restore", str(target), *state])
    assert refused.exit_code == 1 and "is not empty; pass --force" in refused.output

    parsed = make_url(source)
    held = psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username, dbname=parsed.database)
    done = CliRunner().invoke(app, ["restore", str(target), "--force", *state])
    assert done.exit_code == 0, done.output
    with pytest.raises(psycopg.OperationalError):  # a session open on the replaced database was ended
        held.execute("SELECT 1")
    held.close()
    assert _state(source) == before
    assert not {d for d in _databases(pg_url) if "_restore_" in d or "_replaced_" in d}


def test_restore_into_a_new_database_without_force(source: str, tmp_path: Path, pg_url: str) -> None:
    backup(source, tmp_path / "bk", now=NOW, embedded=False)
    fresh = _url_for(pg_url, f"fresh_{uuid.uuid4().hex[:8]}")
    try:
        manifest = restore(fresh, tmp_path / "bk", force=False, embedded=False)
        assert manifest.created_at == NOW.isoformat()
        assert _state(fresh) == _state(source)
    finally:
        with _admin(pg_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{make_url(fresh).database}" WITH (FORCE)')


def _rewrite(directory: Path, **fields: Any) -> None:
    path = directory / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))


def test_refusals_leave_the_database_as_it_was(source: str, tmp_path: Path, pg_url: str) -> None:
    bk = tmp_path / "bk"
    backup(source, bk, now=NOW, embedded=True)
    _change(source)
    changed = _state(source)
    databases = _databases(pg_url)

    _rewrite(bk, migration_head="9999_from_the_future")
    with pytest.raises(BackupError, match="'9999_from_the_future' is newer than this code"):
        restore(source, bk, force=True, embedded=True)
    _rewrite(bk, migration_head=changed["head"])

    dump = bk / "database.dump"
    dump.write_bytes(dump.read_bytes()[:-100])
    with pytest.raises(BackupError, match="SHA-256 differs from the manifest"):
        restore(source, bk, force=True, embedded=True)

    dump.write_bytes(b"PGDMP not really a dump")
    _rewrite(bk, sha256=hashlib.sha256(dump.read_bytes()).hexdigest())
    with pytest.raises(BackupError, match="pg_restore failed"):
        restore(source, bk, force=True, embedded=True)

    assert _state(source) == changed
    assert _databases(pg_url) == databases


def test_binaries_for_a_managed_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL: PATH's pg_dump when its major is at least the server's, else the wheel's (18); embedded:
    always the wheel's; none new enough is refused naming what was tried."""
    from cloudoptima.embedded.backup import tool

    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 16.2'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    assert tool("pg_dump", server_major=16, embedded=False) == str(fake)
    wheel = tool("pg_dump", server_major=17, embedded=False)
    assert wheel != str(fake) and wheel.endswith("/pginstall18/bin/pg_dump")
    assert tool("pg_dump", server_major=16, embedded=True) == wheel
    with pytest.raises(BackupError, match="no pg_dump of Postgres 19 or newer"):
        tool("pg_dump", server_major=19, embedded=False)
