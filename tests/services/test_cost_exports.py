"""Cost exports: files read back equal the database to the cent, the manifest's checksums match the bytes,
re-runs replace consistently, S3 (moto server) gets every file and the manifest, failures leave no manifest,
paths cannot escape the root, and a 200k-row export streams in bounded memory."""

from __future__ import annotations

import csv
import hashlib
import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer
from pydantic import ValidationError
from sqlalchemy import Engine, delete, func, select, text

from cloudoptima.domain.cost_exports import ExportManifest, ExportRequest
from cloudoptima.domain.focus import FOCUS_COLUMNS, ColumnType
from cloudoptima.services.cost_exports import (
    ExportError,
    ExportPathError,
    LocalFolderDestination,
    UnknownDatasetError,
    run_export,
    s3_destination,
)
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import (
    AllocationDimensionRow,
    CostAllocatedDaily,
    CostDaily,
    CostRow,
    IngestRun,
    Organization,
    QuarantinedRow,
)
from cloudoptima.storage.partitions import ensure_cost_partitions

FOCUS_SAMPLE = Path(__file__).parents[1] / "fixtures" / "focus_official_sample" / "focus_1.0_sample_1000.csv"
NOW = datetime(2024, 10, 2, 6, 0, tzinfo=UTC)
SEPTEMBER = {"start": date(2024, 9, 1), "end": date(2024, 10, 1)}
BUCKET = "cost-exports"


def _new_org(engine: Engine, name: str) -> uuid.UUID:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name=name, subscription_tier="free", settings={}
            )
        )
    return org_id


def _drop_org(engine: Engine, org_id: uuid.UUID) -> None:
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    """The official FOCUS sample (USD) plus two EUR rows of another account, committed once for the module."""
    org_id = _new_org(engine, "exports")
    ingest_path(engine, FOCUS_SAMPLE, org_id)
    with engine.begin() as connection:
        for day, cost in ((3, "12.345678901"), (17, "0.01")):
            connection.execute(
                CostRow.__table__.insert().values(
                    organization_id=org_id,
                    charge_period_start=datetime(2024, 9, day, tzinfo=UTC),
                    charge_period_end=datetime(2024, 9, day + 1, tzinfo=UTC),
                    billing_period_start=datetime(2024, 9, 1, tzinfo=UTC),
                    billing_period_end=datetime(2024, 10, 1, tzinfo=UTC),
                    provider="other",
                    provider_name="EuroCloud",
                    billed_cost=Decimal(cost),
                    billing_account_id="eu-1",
                    billing_currency="EUR",
                    charge_category="Usage",
                    tags={"team": "blue"},
                )
            )
    yield org_id
    _drop_org(engine, org_id)


def _db_totals(engine: Engine, org_id: uuid.UUID, table: type[CostRow] | type[CostDaily]) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.billing_currency, func.sum(table.billed_cost))
            .where(table.organization_id == org_id)
            .group_by(table.billing_currency)
        ).all()
    return {currency: format(total, "f") for currency, total in rows}


def _manifest(folder: Path) -> ExportManifest:
    return ExportManifest.model_validate_json((folder / "manifest.json").read_bytes())


def _assert_checksums(folder: Path, manifest: ExportManifest) -> None:
    assert manifest.files, "the export wrote no file"
    for file in manifest.files:
        content = (folder / file.path).read_bytes()
        assert hashlib.sha256(content).hexdigest() == file.sha256
        assert len(content) == file.bytes


def test_focus_raw_parquet_reads_back_equal_to_the_database(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    request = ExportRequest(dataset="focus_raw", format="parquet", partition="month", **SEPTEMBER)
    manifest = run_export(engine, org, request, LocalFolderDestination(tmp_path), now=NOW, batch_rows=300)
    folder = tmp_path / "focus_raw" / "2024-09-01_2024-10-01"
    assert manifest == _manifest(folder)
    assert manifest.focus_version == "1.2"
    assert [f.path for f in manifest.files] == ["part-2024-09.parquet"]
    _assert_checksums(folder, manifest)

    table = pq.read_table(folder / "part-2024-09.parquet")
    assert "BilledCost" in table.column_names and "ChargePeriodStart" in table.column_names
    assert table.num_rows == manifest.rows == 1002
    # Every exported row equals its database row, column by column: exact decimals, UTC times, JSON objects.
    with engine.connect() as connection:
        db_rows = connection.execute(
            select(CostRow.__table__)
            .where(CostRow.organization_id == org)
            .order_by(CostRow.charge_period_start, CostRow.id)
        ).all()
    exported = table.to_pylist()
    assert len(exported) == len(db_rows)
    for got, want in zip(exported, db_rows, strict=True):
        for column in FOCUS_COLUMNS:
            value, expected = got[column.name], getattr(want, column.db_name)
            if value is not None and column.type is ColumnType.DECIMAL:
                value = Decimal(value)
            elif value is not None and column.type is ColumnType.JSON:
                value = json.loads(value)
            assert value == expected, column.name
    sums: dict[str, Decimal] = {}
    for row in table.to_pylist():
        sums[row["BillingCurrency"]] = sums.get(row["BillingCurrency"], Decimal(0)) + Decimal(
            row["BilledCost"]
        )
    assert (
        {c: format(s, "f") for c, s in sums.items()}
        == manifest.billed_cost
        == _db_totals(engine, org, CostRow)
    )
    assert manifest.billed_cost["EUR"] == "12.355678901"


def test_daily_csv_by_day_totals_match_the_rollup(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    with engine.begin() as connection:  # the EUR rows were inserted directly: roll them up like ingest does
        connection.execute(
            text(
                "INSERT INTO cost_daily (organization_id, usage_date, provider, billing_account_id, "
                "charge_category, billing_currency, tag_values, billed_cost, effective_cost, list_cost, row_count) "
                "SELECT organization_id, (charge_period_start AT TIME ZONE 'UTC')::date, provider, "
                "billing_account_id, charge_category, billing_currency, '{}'::jsonb, billed_cost, 0, 0, 1 "
                "FROM cost_data WHERE organization_id = :org AND billing_currency = 'EUR' "
                "AND NOT EXISTS (SELECT 1 FROM cost_daily d WHERE d.organization_id = :org "
                "AND d.billing_currency = 'EUR')"
            ),
            {"org": org},
        )
    request = ExportRequest(dataset="daily", format="csv", partition="day", **SEPTEMBER)
    manifest = run_export(engine, org, request, LocalFolderDestination(tmp_path, "exports"), now=NOW)
    folder = tmp_path / "exports" / "daily" / "2024-09-01_2024-10-01"
    _assert_checksums(folder, manifest)
    assert len(manifest.files) == 30 and manifest.files[0].path == "part-2024-09-01.csv"
    sums: dict[str, Decimal] = {}
    rows = 0
    for file in manifest.files:
        with (folder / file.path).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows += 1
                assert row["usage_date"] == file.partition
                sums[row["billing_currency"]] = sums.get(row["billing_currency"], Decimal(0)) + Decimal(
                    row["billed_cost"]
                )
    assert rows == manifest.rows
    assert {c: format(s, "f") for c, s in sums.items()} == manifest.billed_cost
    assert manifest.billed_cost == _db_totals(engine, org, CostDaily)


def test_a_rerun_replaces_the_files_and_manifest_and_prunes_stale_files(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    destination = LocalFolderDestination(tmp_path)
    request = ExportRequest(dataset="focus_raw", format="csv", partition="day", **SEPTEMBER)
    first = run_export(engine, org, request, destination, now=NOW)
    folder = tmp_path / request.folder
    (folder / "part-2024-08-31.csv").write_text("left over\n")
    second = run_export(engine, org, request, destination, now=NOW)
    assert second == first == _manifest(folder)  # same rows -> same bytes, same checksums
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f.path for f in first.files] + ["manifest.json"]
    )
    _assert_checksums(folder, second)


def test_a_failing_destination_publishes_no_manifest(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    destination = LocalFolderDestination(tmp_path)
    request = ExportRequest(dataset="focus_raw", format="parquet", partition="month", **SEPTEMBER)
    run_export(engine, org, request, destination, now=NOW)
    folder = tmp_path / request.folder
    assert (folder / "manifest.json").exists()
    # The file's place is taken by a non-empty folder: the rename fails on the re-run.
    (folder / "part-2024-09.parquet").unlink()
    (folder / "part-2024-09.parquet" / "blocker").mkdir(parents=True)
    with pytest.raises(ExportError, match=r"part-2024-09\.parquet"):
        run_export(engine, org, request, destination, now=NOW)
    assert not (folder / "manifest.json").exists()  # the old manifest is withdrawn, no new one
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-staging-")]


def test_paths_escaping_the_root_are_refused(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    request = ExportRequest(dataset="daily", format="csv", **SEPTEMBER)
    for path in ("../outside", "/etc", "a/../../b"):
        with pytest.raises(ExportPathError, match="path"):
            run_export(engine, org, request, LocalFolderDestination(tmp_path / "root", path), now=NOW)
    (tmp_path / "root").mkdir(exist_ok=True)
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    with pytest.raises(ExportPathError, match="escapes"):
        run_export(engine, org, request, LocalFolderDestination(tmp_path / "root", "link/x"), now=NOW)
    assert not (tmp_path / "x").exists()


def test_bad_requests_name_the_field() -> None:
    with pytest.raises(ValidationError, match="end"):
        ExportRequest(dataset="daily", start=date(2024, 9, 2), end=date(2024, 9, 2))
    with pytest.raises(ValidationError, match="format"):
        ExportRequest.model_validate({"dataset": "daily", "format": "xlsx", **SEPTEMBER})
    with pytest.raises(ValidationError, match="end"):
        ExportRequest(dataset="daily", start=date(2023, 1, 1), end=date(2024, 9, 2))
    with pytest.raises(UnknownDatasetError, match="dataset: unknown dataset 'nope'"):
        run_export(
            None,  # type: ignore[arg-type]  # never reached: the dataset is checked first
            uuid.uuid4(),
            ExportRequest(dataset="nope", **SEPTEMBER),
            LocalFolderDestination(Path("/nonexistent")),
            now=NOW,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "ambient")
        env.setenv("AWS_SECRET_ACCESS_KEY", "ambient")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{server._port}"
        try:
            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
            yield endpoint
        finally:
            server.stop()


def test_s3_export_lands_every_file_and_the_manifest(
    engine: Engine, org: uuid.UUID, s3_endpoint: str
) -> None:
    from cloudoptima.services.cost_exports import S3Credentials

    destination = s3_destination(
        BUCKET,
        prefix="finops/acme/",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        credentials=S3Credentials("AKIAEXPORT", "export-secret"),
    )
    request = ExportRequest(dataset="focus_raw", format="parquet", partition="day", **SEPTEMBER)
    manifest = run_export(engine, org, request, destination, now=NOW)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    prefix = "finops/acme/focus_raw/2024-09-01_2024-10-01/"
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"])
    assert keys == sorted([prefix + f.path for f in manifest.files] + [prefix + "manifest.json"])
    stored = json.loads(client.get_object(Bucket=BUCKET, Key=prefix + "manifest.json")["Body"].read())
    assert ExportManifest.model_validate(stored) == manifest
    for file in manifest.files:
        content = client.get_object(Bucket=BUCKET, Key=prefix + file.path)["Body"].read()
        assert hashlib.sha256(content).hexdigest() == file.sha256
    assert manifest.billed_cost == _db_totals(engine, org, CostRow)


def test_s3_failure_leaves_no_manifest(engine: Engine, org: uuid.UUID, s3_endpoint: str) -> None:
    destination = s3_destination("no-such-bucket", endpoint_url=s3_endpoint, region="us-east-1")
    request = ExportRequest(dataset="daily", format="csv", **SEPTEMBER)
    with pytest.raises(ExportError, match=r"no-such-bucket.*NoSuchBucket"):
        run_export(engine, org, request, destination, now=NOW)


RSS_SCRIPT = """
import sys, uuid
from datetime import UTC, date, datetime
from pathlib import Path
from cloudoptima.domain.cost_exports import ExportRequest
from cloudoptima.services.cost_exports import LocalFolderDestination, run_export
from cloudoptima.storage.engine import make_engine
engine = make_engine(sys.argv[1])
with engine.connect() as connection:
    connection.exec_driver_sql("SELECT 1")
def peak_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")
Path("/proc/self/clear_refs").write_text("5")  # resets the peak to the current RSS
before = peak_kib()
request = ExportRequest(dataset="focus_raw", format=sys.argv[4], start=date(2025, 1, 1), end=date(2025, 3, 1))
manifest = run_export(engine, uuid.UUID(sys.argv[2]), request, LocalFolderDestination(Path(sys.argv[3])),
                      now=datetime(2025, 3, 2, tzinfo=UTC))
after = peak_kib()
print(manifest.rows, before, after)
"""


@pytest.mark.slow
def test_a_200k_row_export_streams_in_bounded_memory(engine: Engine, pg_url: str, tmp_path: Path) -> None:
    org_id = _new_org(engine, "exports-big")
    try:
        with engine.begin() as connection:
            ensure_cost_partitions(connection, [date(2025, 1, 1), date(2025, 2, 1)])
            connection.execute(
                text(
                    "INSERT INTO cost_data (organization_id, charge_period_start, charge_period_end, "
                    "billing_period_start, billing_period_end, provider, provider_name, billed_cost, "
                    "billing_account_id, billing_currency, charge_category, service_name, resource_id, tags) "
                    "SELECT :org, timestamptz '2025-01-01 00:00Z' + (i % 59) * interval '1 day', "
                    "timestamptz '2025-01-02 00:00Z' + (i % 59) * interval '1 day', "
                    "timestamptz '2025-01-01 00:00Z', timestamptz '2025-02-01 00:00Z', 'aws', 'AWS', "
                    "(i % 1000) / 100.0, '1234', 'USD', 'Usage', 'Amazon EC2', 'i-' || i, "
                    "jsonb_build_object('team', 't' || (i % 7)) FROM generate_series(1, 200000) AS i"
                ),
                {"org": org_id},
            )
        for fmt in ("parquet",):  # the larger peak of the two formats (CSV measured +54 MiB)
            out = subprocess.run(
                [sys.executable, "-c", RSS_SCRIPT, pg_url, str(org_id), str(tmp_path / fmt), fmt],
                capture_output=True,
                text=True,
                check=True,
            )
            values = out.stdout.split()
            rows, before_kib, after_kib = (int(v) for v in values)
            print(
                f"{fmt}: {rows} rows, RSS {before_kib // 1024} MiB before, peak {after_kib // 1024} MiB during"
            )
            assert rows == 200_000
            # 200k rows of 57 columns held as Python tuples would take ~1 GiB; streaming measured +126 MiB.
            assert after_kib - before_kib < 200 * 1024
    finally:
        _drop_org(engine, org_id)


def test_allocated_daily_exports_the_active_version_only(engine: Engine, tmp_path: Path) -> None:
    org_id = _new_org(engine, "exports-allocated")
    dimension = uuid.uuid4()
    try:
        with engine.begin() as connection:
            connection.execute(
                AllocationDimensionRow.__table__.insert().values(
                    id=dimension, organization_id=org_id, name="team", active_version=2, latest_version=2
                )
            )
            for version, value, cost in ((2, "blue", "1.005"), (2, "unallocated", "0.995"), (1, "old", "9")):
                connection.execute(
                    CostAllocatedDaily.__table__.insert().values(
                        organization_id=org_id,
                        dimension_id=dimension,
                        version=version,
                        usage_date=date(2024, 9, 5),
                        value=value,
                        provider="aws",
                        billing_currency="USD",
                        billed_cost=Decimal(cost),
                        shared=False,
                    )
                )
        request = ExportRequest(dataset="allocated_daily", format="csv", **SEPTEMBER)
        manifest = run_export(engine, org_id, request, LocalFolderDestination(tmp_path), now=NOW)
        assert manifest.billed_cost == {"USD": "2.000"} and manifest.rows == 2
        with (tmp_path / request.folder / "part-2024-09.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [(r["dimension"], r["value"], r["billed_cost"]) for r in rows] == [
            ("team", "blue", "1.005"),
            ("team", "unallocated", "0.995"),
        ]
    finally:
        with engine.begin() as connection:
            connection.execute(delete(CostAllocatedDaily).where(CostAllocatedDaily.organization_id == org_id))
            connection.execute(
                delete(AllocationDimensionRow).where(AllocationDimensionRow.organization_id == org_id)
            )
        _drop_org(engine, org_id)
