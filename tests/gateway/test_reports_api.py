"""The Reports API end to end: real gateway, Postgres, Temporal dev server with a worker on the ``reports``
queue, a real SMTP server (aiosmtpd, STARTTLS + AUTH) and a real S3 API (moto server). Reports are polled
until completed and downloaded through their signed links; their totals match ``GET /v1/costs/overview``."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.notifications.email import SmtpSender
from cloudoptima.services.reports import ReportLinks, reports_config_from_settings
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.queues import REPORTS
from cloudoptima_workflows.reports.activities import ReportActivities
from cloudoptima_workflows.reports.workflows import GenerateReportWorkflow
from tests.gateway.conftest import Org, add_daily_costs, make_org
from tests.notifications.smtp_server import PASSWORD, USERNAME, LocalSmtp, running_smtp

BUCKET = "finops-reports"
START, END = date(2026, 10, 1), date(2026, 11, 1)
PERIOD = {"start_date": START.isoformat(), "end_date": END.isoformat()}
CENT = Decimal("0.01")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        try:
            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
            yield endpoint
        finally:
            server.stop()


@pytest.fixture(scope="module")
def gateway_settings(
    tmp_path_factory: pytest.TempPathFactory,
    pg_url: str,
    redis_url: str,
    temporal_env: WorkflowEnvironment,
    s3_endpoint: str,
) -> Settings:
    """The harness's settings plus an S3 destination for reports (this module's ``client`` uses them)."""
    state: Path = tmp_path_factory.mktemp("reports-gateway-state")
    return Settings(
        state_dir=state,
        database_url=pg_url,
        redis_url=redis_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        log_level="WARNING",
        reports_s3_bucket=BUCKET,
        reports_s3_prefix="exports",
        reports_s3_endpoint_url=s3_endpoint,
        reports_s3_region="us-east-1",
    )


@pytest.fixture(scope="module")
def smtp() -> Iterator[LocalSmtp]:
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="module")
def org(engine: Engine, gateway_settings: Settings) -> Org:
    org = make_org(engine, gateway_settings, name="reports")
    costs = []
    for n in range((END - START).days + 31):
        day = START - timedelta(days=31) + timedelta(days=n)
        costs += [
            (day, "AmazonEC2", Decimal("10.10") + Decimal(n % 3) / 100),
            (day, "AmazonS3", Decimal("0.125")),
        ]
    add_daily_costs(engine, org.id, costs)
    return org


@asynccontextmanager
async def worker(
    env: WorkflowEnvironment, engine: Engine, settings: Settings, smtp: SmtpSender | None
) -> AsyncIterator[None]:
    """A worker on the real ``reports`` queue, with a short backoff between delivery attempts."""
    activities = ReportActivities(
        session_factory(engine),
        reports_config_from_settings(settings),
        smtp,
        delivery_retry_delay=timedelta(milliseconds=50),
    )
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            env.client,
            task_queue=REPORTS,
            workflows=[GenerateReportWorkflow],
            activities=activities.all(),
            activity_executor=executor,
        ):
            yield


def _sender(smtp: LocalSmtp) -> SmtpSender:
    return SmtpSender(
        smtp.host,
        smtp.port,
        sender="CloudOptima <reports@finops.example.com>",
        username=USERNAME,
        password=PASSWORD,
        ssl_context=smtp.client_context,
        timeout_s=5,
    )


async def _generate(client: TestClient, org: Org, body: dict[str, Any], role: str = "analyst") -> str:
    response = await asyncio.to_thread(
        client.post, "/v1/reports/generate", json=body, headers=org.headers(role)
    )  # type: ignore[arg-type]
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "generating"
    return str(response.json()["report_id"])


async def _settled(client: TestClient, org: Org, report_id: str) -> dict[str, Any]:
    """GET the report until it is no longer generating and its delivery no longer pending."""
    for _ in range(300):
        response = await asyncio.to_thread(
            client.get, f"/v1/reports/{report_id}", headers=org.headers("analyst")
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "generating" and body["delivery_status"] != "pending":
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"report {report_id} did not settle: {body}")


async def _download(client: TestClient, url: str) -> tuple[int, bytes, dict[str, str]]:
    response = await asyncio.to_thread(client.get, url)  # no bearer token: the signature is the credential
    return response.status_code, response.content, dict(response.headers)


def _overview_total(client: TestClient, org: Org) -> Decimal:
    response = client.get("/v1/costs/overview", params=PERIOD, headers=org.headers("viewer"))
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["total_cost"]))


async def test_json_and_xlsx_reports_download_and_match_the_overview(
    client: TestClient,
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    gateway_settings: Settings,
    org: Org,
) -> None:
    from openpyxl import load_workbook

    templates = client.get("/v1/reports/templates", headers=org.headers("analyst"))
    assert templates.status_code == 200
    listed = {t["id"]: t for t in templates.json()["templates"]}
    assert "start_date" in [p["name"] for p in listed["monthly_cost_review"]["parameters"]]
    overview = _overview_total(client, org)
    assert overview > 0
    async with worker(temporal_env, engine, gateway_settings, None):
        json_id = await _generate(
            client, org, {"template_id": "monthly_cost_review", "parameters": PERIOD, "format": "json"}
        )
        xlsx_id = await _generate(
            client, org, {"template_id": "monthly_cost_review", "parameters": PERIOD, "format": "excel"}
        )
        json_report = await _settled(client, org, json_id)
        xlsx_report = await _settled(client, org, xlsx_id)
    for report in (json_report, xlsx_report):
        assert report["status"] == "completed", report
        assert report["error"] is None and report["delivery_status"] is None
        assert report["parameters"]["start_date"] == "2026-10-01"
        assert report["download_url"].startswith(f"/v1/reports/{report['id']}/download?expires=")

    status, data, headers = await _download(client, json_report["download_url"])
    assert status == 200 and headers["content-type"] == "application/json"
    assert (
        headers["content-disposition"]
        == 'attachment; filename="monthly_cost_review-2026-10-01-2026-10-31.json"'
    )
    assert (
        len(data) == json_report["size_bytes"] and hashlib.sha256(data).hexdigest() == json_report["sha256"]
    )
    total = next(h for h in json.loads(data)["document"]["highlights"] if h["label"] == "Total cost")
    assert Decimal(total["value"]).quantize(CENT) == overview

    status, data, headers = await _download(client, xlsx_report["download_url"])
    assert status == 200 and headers["content-type"].startswith("application/vnd.openxmlformats")
    assert hashlib.sha256(data).hexdigest() == xlsx_report["sha256"]
    workbook = load_workbook(io.BytesIO(data))
    facts = {row[0].value: row[1].value for row in workbook["Summary"].iter_rows() if len(row) > 1}
    workbook.close()
    assert Decimal(str(facts["Total cost"])).quantize(CENT) == overview

    listing = client.get("/v1/reports", headers=org.headers("analyst")).json()["items"]
    assert [r["id"] for r in listing[:2]] == [xlsx_id, json_id]  # newest first
    viewer_sees = client.get(f"/v1/reports/{json_id}", headers=org.headers("viewer"))
    assert viewer_sees.status_code == 403 and "read:reports" in viewer_sees.json()["detail"]

    # Links: tampered or expired (signed with the real key, clock pinned in the past) are refused; an
    # unknown report is 404; a report whose file is gone is 410.
    url = json_report["download_url"]
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert (await _download(client, tampered))[0] == 403
    assert (await _download(client, url.split("?")[0]))[0] == 403
    links = ReportLinks(reports_config_from_settings(gateway_settings).link_key)
    expired = links.path(uuid.UUID(json_id), datetime(2026, 1, 1, tzinfo=UTC))
    status, body, _ = await _download(client, expired)
    assert status == 403 and b"expired" in body
    unknown = uuid.uuid4()
    assert (await _download(client, links.path(unknown, datetime.now(UTC) + timedelta(hours=1))))[0] == 404
    store = reports_config_from_settings(gateway_settings).store
    store.delete(f"{org.id}/{json_id}.json")
    assert (await _download(client, url))[0] == 410


def test_bad_requests_are_422_naming_the_field_and_start_nothing(client: TestClient, org: Org) -> None:
    before = len(client.get("/v1/reports", headers=org.headers("analyst")).json()["items"])
    cases = [
        ({"template_id": "no_such_report"}, ["body", "template_id"]),
        (
            {
                "template_id": "monthly_cost_review",
                "parameters": {"start_date": "2025-01-01", "end_date": "2026-02-05"},
            },
            ["body", "parameters.end_date"],
        ),
        ({"template_id": "monthly_cost_review", "format": "docx"}, ["body", "format"]),
        (
            {
                "template_id": "monthly_cost_review",
                "delivery": {"method": "email", "recipients": ["not-an-address"]},
            },
            ["body", "delivery.recipients[0]"],
        ),
    ]
    for body, loc in cases:
        response = client.post("/v1/reports/generate", json=body, headers=org.headers("analyst"))
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == loc, response.text
    viewer = client.post(
        "/v1/reports/generate", json={"template_id": "monthly_cost_review"}, headers=org.headers("viewer")
    )
    assert viewer.status_code == 403 and "create:reports" in viewer.json()["detail"]
    assert len(client.get("/v1/reports", headers=org.headers("analyst")).json()["items"]) == before


async def test_email_and_s3_deliveries(
    client: TestClient,
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    gateway_settings: Settings,
    org: Org,
    smtp: LocalSmtp,
    s3_endpoint: str,
) -> None:
    async with worker(temporal_env, engine, gateway_settings, _sender(smtp)):
        mailed_id = await _generate(
            client,
            org,
            {
                "template_id": "monthly_cost_review",
                "parameters": PERIOD,
                "format": "csv",
                "delivery": {"method": "email", "recipients": ["cfo@example.com", "finops@example.com"]},
            },
        )
        uploaded_id = await _generate(
            client,
            org,
            {
                "template_id": "monthly_cost_review",
                "parameters": PERIOD,
                "format": "json",
                "delivery": {"method": "s3"},
            },
        )
        mailed = await _settled(client, org, mailed_id)
        uploaded = await _settled(client, org, uploaded_id)
    assert (mailed["status"], mailed["delivery_status"], mailed["delivery_error"]) == (
        "completed",
        "delivered",
        None,
    )
    [message] = [m for m in smtp.messages if m.message["X-CloudOptima-Report"] == mailed_id]
    assert message.encrypted and message.authenticated
    assert sorted(message.recipients) == ["cfo@example.com", "finops@example.com"]
    subject = str(message.message["Subject"])
    assert "Monthly cost review" in subject and "2026-10-01 – 2026-10-31" in subject and "reports-" in subject
    [attachment] = list(message.message.iter_attachments())
    content = attachment.get_content()
    assert attachment.get_filename() == "monthly_cost_review-2026-10-01-2026-10-31.csv.zip"
    assert hashlib.sha256(content).hexdigest() == mailed["sha256"]
    assert mailed["download_url"] in str(message.message.get_body(("plain",)).get_content())

    assert (uploaded["status"], uploaded["delivery_status"]) == ("completed", "delivered"), uploaded
    created = uploaded["created_at"][:10]
    key = f"exports/{org.id}/{created}/monthly_cost_review-{uploaded_id}.json"
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    body = stored["Body"].read()
    stored["Body"].close()
    assert hashlib.sha256(body).hexdigest() == uploaded["sha256"]
    assert stored["ContentType"] == "application/json"


async def test_unreachable_smtp_keeps_the_report_and_shows_the_failure(
    client: TestClient,
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    gateway_settings: Settings,
    org: Org,
) -> None:
    port = _free_port()
    dead = SmtpSender("127.0.0.1", port, sender="reports@example.com", starttls=False, timeout_s=2)
    async with worker(temporal_env, engine, gateway_settings, dead):
        report_id = await _generate(
            client,
            org,
            {
                "template_id": "monthly_cost_review",
                "parameters": PERIOD,
                "format": "json",
                "delivery": {"method": "email", "recipients": ["cfo@example.com"]},
            },
        )
        report = await _settled(client, org, report_id)
    assert report["status"] == "completed" and report["delivery_status"] == "failed"
    assert f"127.0.0.1:{port}" in report["delivery_error"]
    status, data, _ = await _download(client, report["download_url"])
    assert status == 200 and hashlib.sha256(data).hexdigest() == report["sha256"]
