"""The Reports service over real Postgres and a real report store: up-front validation naming the field,
generation to an atomic artifact (or a failure leaving none), signed links, and delivery failures that never
lose the report."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import Engine

from cloudoptima.notifications.email import SmtpSender
from cloudoptima.reports.store import ReportStore
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.reports import (
    ReportGone,
    ReportLinkError,
    ReportNotFound,
    Reports,
    ReportsConfig,
    open_download,
)
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.tenancy import tenant_session
from tests.reports.cost_seeding import Cost, add_costs, days, make_organisation, remove_organisation

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
START, END = date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id, _name = make_organisation(engine, "svc")
    add_costs(engine, org_id, [Cost(d, Decimal("10.10")) for d in days(date(2026, 10, 1), END)])
    yield org_id
    remove_organisation(engine, org_id)


@pytest.fixture
def config(tmp_path: Path) -> ReportsConfig:
    return ReportsConfig(
        store=ReportStore(tmp_path / "reports"), link_key=b"k" * 32, link_ttl=timedelta(days=7)
    )


def _request(service: Reports, **changes: object) -> uuid.UUID:
    args: dict[str, object] = {
        "template_id": "monthly_cost_review",
        "parameters": {"start_date": "2026-11-01", "end_date": "2026-12-01"},
        "format": "json",
        "delivery": {"method": "download"},
    }
    args.update(changes)
    return service.request(now=NOW, **args).id  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"template_id": "nope"}, "template_id"),
        ({"parameters": {"start_date": "2025-01-01", "end_date": "2026-02-05"}}, "parameters.end_date"),
        ({"parameters": {"colour": "red"}}, "parameters.colour"),
        ({"parameters": {"start_date": "2026-11-01"}}, "parameters.end_date"),
        ({"format": "docx"}, "format"),
        ({"delivery": {"method": "fax"}}, "delivery.method"),
        ({"delivery": {"method": "email", "recipients": []}}, "delivery.recipients"),
        ({"delivery": {"method": "email", "recipients": ["ok@example.com", "no"]}}, "delivery.recipients[1]"),
        ({"delivery": {"method": "s3"}}, "delivery.method"),
        ({"delivery": {"method": "download", "recipients": ["a@example.com"]}}, "delivery.recipients"),
    ],
)
def test_bad_requests_name_the_field_and_insert_nothing(
    engine: Engine, org: uuid.UUID, config: ReportsConfig, changes: dict[str, object], field: str
) -> None:
    with tenant_session(session_factory(engine), org) as session:
        service = Reports(session, org, config)
        with pytest.raises(ReportInputError) as caught:
            _request(service, **changes)
        assert str(caught.value).startswith(f"{field}:"), caught.value
        assert service.list() == []


def test_generate_stores_the_artifact_and_links_open_it(
    engine: Engine, org: uuid.UUID, config: ReportsConfig
) -> None:
    factory = session_factory(engine)
    with tenant_session(factory, org) as session:
        service = Reports(session, org, config)
        report_id = _request(service, parameters={})  # default period: the last full month before NOW
        view = service.generate(report_id, NOW)
    assert view.status == "completed", view.error
    assert view.parameters["start_date"] == "2026-11-01" and view.parameters["end_date"] == "2026-12-01"
    assert view.expires_at == NOW + timedelta(days=7) and view.content_type == "application/json"
    assert view.artifact_key == f"{org}/{report_id}.json"
    data = config.store.read(view.artifact_key)
    assert len(data) == view.size_bytes and hashlib.sha256(data).hexdigest() == view.sha256
    body = json.loads(data)
    total = next(h for h in body["document"]["highlights"] if h["label"] == "Total cost")
    assert Decimal(total["value"]) == Decimal("10.10") * 30
    assert view.filename == "monthly_cost_review-2026-11-01-2026-11-30.json"

    with tenant_session(factory, org) as session:
        service = Reports(session, org, config)
        again = service.generate(report_id, NOW + timedelta(hours=1))  # a retried activity changes nothing
        assert again.completed_at == NOW
        url = service.download_url(again, NOW)
    assert url is not None and url.startswith(f"/v1/reports/{report_id}/download?expires=")
    expires = int(url.split("expires=")[1].split("&")[0])
    signature = url.split("signature=")[1]
    with factory() as session:
        found, stream = open_download(session, config, report_id, expires, signature, NOW)
        with stream:
            assert stream.read() == data and found.id == report_id
        tampered = signature[:-1] + ("1" if signature.endswith("0") else "0")
        with pytest.raises(ReportLinkError, match="signature"):
            open_download(session, config, report_id, expires, tampered, NOW)
        with pytest.raises(ReportLinkError, match="signature"):
            open_download(session, config, report_id, expires + 1, signature, NOW)
        with pytest.raises(ReportLinkError, match="expired"):
            open_download(session, config, report_id, expires, signature, NOW + timedelta(days=7))
        other = uuid.uuid4()
        path = Reports(session, org, config).signed_download_path(other, NOW + timedelta(days=1))
        sig = path.split("signature=")[1]
        with pytest.raises(ReportNotFound):
            open_download(session, config, other, int((NOW + timedelta(days=1)).timestamp()), sig, NOW)
        config.store.delete(view.artifact_key)
        with pytest.raises(ReportGone):
            open_download(session, config, report_id, expires, signature, NOW)


def test_a_failed_generation_leaves_no_artifact(
    engine: Engine, org: uuid.UUID, config: ReportsConfig
) -> None:
    with tenant_session(session_factory(engine), org) as session:
        service = Reports(session, org, config)
        report_id = _request(service, parameters={"tag_key": "no-such-key"})
        view = service.generate(report_id, NOW)
    assert view.status == "failed" and view.error is not None and view.error.startswith("tag_key:")
    assert view.artifact_key is None and not (config.store.root / str(org)).exists()


def test_a_render_failure_midway_leaves_no_file(tmp_path: Path) -> None:
    store = ReportStore(tmp_path)
    key = f"{uuid.uuid4()}/{uuid.uuid4()}.json"

    def half(stream: IO[bytes]) -> int:
        stream.write(b'{"half": ')
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        store.write(key, half)
    assert not store.exists(key) and list(store.path(key).parent.iterdir()) == []
    stored = store.write(key, lambda s: s.write(b"x" * 100_000))
    assert stored.size_bytes == 100_000 and stored.sha256 == hashlib.sha256(b"x" * 100_000).hexdigest()
    with pytest.raises(ValueError, match="artifact_key"):
        store.path("../../etc/passwd")


def test_unreachable_smtp_fails_the_delivery_not_the_report(
    engine: Engine, org: uuid.UUID, config: ReportsConfig
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = SmtpSender("127.0.0.1", port, sender="r@example.com", starttls=False, timeout_s=2)
    factory = session_factory(engine)
    with tenant_session(factory, org) as session:
        service = Reports(session, org, config, smtp=smtp)
        report_id = _request(service, delivery={"method": "email", "recipients": ["cfo@example.com"]})
        assert service.generate(report_id, NOW).delivery_status == "pending"
    with tenant_session(factory, org) as session:  # retryable: still pending, the reason recorded
        pending = Reports(session, org, config, smtp=smtp).deliver(report_id, NOW, final=False)
    assert pending.delivery_status == "pending" and pending.delivery_error is not None
    assert "refused" in pending.delivery_error
    with tenant_session(factory, org) as session:
        view = Reports(session, org, config, smtp=smtp).deliver(report_id, NOW, final=True)
    assert view.status == "completed" and view.delivery_status == "failed"
    assert view.delivery_error is not None and f"127.0.0.1:{port}" in view.delivery_error
    assert view.artifact_key is not None and config.store.exists(view.artifact_key)


def test_stream_through_store_is_what_xlsx_renderer_writes(
    engine: Engine, org: uuid.UUID, config: ReportsConfig
) -> None:
    from openpyxl import load_workbook

    with tenant_session(session_factory(engine), org) as session:
        service = Reports(session, org, config)
        view = service.generate(_request(service, format="excel"), NOW)
    assert view.status == "completed", view.error
    assert view.artifact_key is not None and view.artifact_key.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(config.store.read(view.artifact_key)))
    facts = {row[0].value: row[1].value for row in workbook["Summary"].iter_rows() if len(row) > 1}
    workbook.close()
    assert Decimal(str(facts["Total cost"])) == Decimal("303.00")
