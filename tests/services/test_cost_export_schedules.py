"""Export schedules and runs: inputs checked naming the field, runs recorded with their manifest or their
failure (and then no manifest), scheduled runs cover the last full period in the schedule's zone, once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from cloudoptima.services.cost_export_schedules import (
    ExportInputError,
    ExportSchedules,
    ExportsConfig,
    check_request,
    perform_export,
    perform_scheduled_export,
)
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization
from cloudoptima.storage.models.cost_exports import CostExportRunRow, CostExportScheduleRow
from cloudoptima.storage.tenancy import scope

FOCUS_SAMPLE = Path(__file__).parents[1] / "fixtures" / "focus_official_sample" / "focus_1.0_sample_1000.csv"
NOW = datetime(2024, 10, 2, 6, 0, tzinfo=UTC)
DAILY = {"frequency": "monthly", "day_of_month": 2, "time": "06:00", "timezone": "Europe/Berlin"}


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="export-runs", subscription_tier="free", settings={}
            )
        )
    ingest_path(engine, FOCUS_SAMPLE, org_id)
    yield org_id
    with engine.begin() as connection:
        for model in (CostExportRunRow, CostExportScheduleRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_schedule_inputs_are_checked_naming_the_field(
    db_session: Session, org: uuid.UUID, tmp_path: Path
) -> None:
    schedules = ExportSchedules(scope(db_session, org), org, ExportsConfig(root=tmp_path))
    good = {"dataset": "daily", "format": "csv", "partition": "day", "destination": {"kind": "folder"}}
    recurrence = ExportSchedules.recurrence(DAILY)
    view = schedules.create(**good, recurrence=recurrence, now=NOW)  # type: ignore[arg-type]
    assert (
        view.temporal_schedule_id == f"cloudoptima-export-{view.id}" and view.name == "daily export (monthly)"
    )
    bad = [
        ({**good, "dataset": "nope"}, "dataset:"),
        ({**good, "format": "xlsx"}, "format:"),
        ({**good, "destination": {"kind": "folder", "path": "../other-org"}}, "destination.path:"),
        ({**good, "destination": {"kind": "s3", "bucket": "B!"}}, "destination.bucket:"),
        (
            {
                **good,
                "destination": {
                    "kind": "s3",
                    "bucket": "ok-bucket",
                    "credentials_account_id": str(uuid.uuid4()),
                },
            },
            "destination.credentials_account_id:",
        ),
    ]
    for fields, prefix in bad:
        with pytest.raises(ExportInputError) as caught:
            schedules.create(**fields, recurrence=recurrence, now=NOW)  # type: ignore[arg-type]
        assert str(caught.value).startswith(prefix), str(caught.value)
    with pytest.raises(ExportInputError, match=r"^schedule\.timezone:"):
        ExportSchedules.recurrence({**DAILY, "timezone": "Mars/Olympus"})
    with pytest.raises(ExportInputError, match=r"^end:"):
        check_request("daily", "csv", "month", "2024-09-02", "2024-09-01")
    changed = schedules.update(view.id, {"schedule": {"time": "07:30"}, "format": "parquet"})
    assert (
        changed.recurrence.time == "07:30"
        and changed.recurrence.day_of_month == 2
        and changed.format == "parquet"
    )


def test_runs_are_recorded_with_their_manifest_or_their_failure(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    config = ExportsConfig(root=tmp_path)
    request = check_request("focus_raw", "parquet", "month", "2024-09-01", "2024-10-01")
    finished = datetime(2024, 10, 2, 6, 1, tzinfo=UTC)
    ok = perform_export(
        engine, org, request, {"kind": "folder", "path": "finance"}, config, now=NOW, clock=lambda: finished
    )
    assert ok.status == "succeeded" and ok.error is None and ok.finished_at == finished
    assert ok.manifest is not None and Decimal(ok.manifest["billed_cost"]["USD"]).quantize(
        Decimal("0.000001")
    ) == Decimal("20.520227")
    assert (tmp_path / str(org) / "finance" / request.folder / "manifest.json").exists()

    # The folder's place is taken by a file: the run fails, is recorded failed with the reason, no manifest.
    (tmp_path / str(org) / "blocked").write_text("not a folder")
    failed = perform_export(engine, org, request, {"kind": "folder", "path": "blocked"}, config, now=NOW)
    assert failed.status == "failed" and failed.manifest is None
    assert failed.error is not None and "blocked" in failed.error
    with Session(engine) as session:
        stored = ExportSchedules(scope(session, org), org, config).run(failed.id)
    assert stored.status == "failed" and stored.error == failed.error


def test_a_scheduled_run_covers_the_last_full_period_once(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    config = ExportsConfig(root=tmp_path)
    with Session(engine) as session:
        schedules = ExportSchedules(scope(session, org), org, config)
        view = schedules.create(
            dataset="daily",
            format="csv",
            partition="month",
            destination={"kind": "folder", "path": "scheduled"},
            recurrence=ExportSchedules.recurrence(DAILY),
            now=NOW,
        )
        session.commit()
    first = perform_scheduled_export(engine, org, view.id, config, now=NOW)
    again = perform_scheduled_export(engine, org, view.id, config, now=NOW)
    assert first.id == again.id and first.status == "succeeded"
    assert (first.period_start, first.period_end) == (date(2024, 9, 1), date(2024, 10, 1))
    with Session(engine) as session:
        runs = ExportSchedules(scope(session, org), org, config).runs(schedule_id=view.id)
    assert [run.id for run in runs] == [first.id]


def test_s3_credentials_come_from_a_cloud_account_of_the_organisation(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    import socket

    import boto3
    from cryptography.fernet import Fernet
    from moto.server import ThreadedMotoServer

    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.services.cloud_accounts import CloudAccountService

    cipher = CredentialCipher(Fernet.generate_key().decode())
    config = ExportsConfig(root=tmp_path, cipher=cipher)
    tag = uuid.uuid4().hex[:6]
    with Session(engine) as session:
        accounts = CloudAccountService(scope(session, org), org, cipher)
        keys = accounts.connect(
            "aws", f"1111{tag}", "keys", {"access_key_id": "AKIAEXP", "secret_access_key": "s"}
        )
        role = accounts.connect("aws", f"2222{tag}", "role", {"role_arn": "arn:aws:iam::1:role/X"})
        keys_id, role_id = keys.id, role.id
        session.commit()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
        )
        s3.create_bucket(Bucket="org-exports")
        request = check_request("focus_raw", "csv", "month", "2024-09-01", "2024-10-01")
        base = {"kind": "s3", "bucket": "org-exports", "endpoint_url": endpoint, "region": "us-east-1"}
        ok = perform_export(
            engine, org, request, {**base, "credentials_account_id": str(keys_id)}, config, now=NOW
        )
        assert ok.status == "succeeded", ok.error
        listed = s3.list_objects_v2(Bucket="org-exports")["Contents"]
        assert sorted(o["Key"] for o in listed) == [
            "focus_raw/2024-09-01_2024-10-01/manifest.json",
            "focus_raw/2024-09-01_2024-10-01/part-2024-09.csv",
        ]
        failed = perform_export(
            engine, org, request, {**base, "credentials_account_id": str(role_id)}, config, now=NOW
        )
        assert failed.status == "failed" and failed.error is not None
        assert failed.error.startswith(
            "destination.credentials_account_id: the cloud account holds no access key pair"
        )
    finally:
        server.stop()
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM cloud_accounts WHERE organization_id = :o"), {"o": org})
