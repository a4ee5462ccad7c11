"""The monthly cost review looked at as a person would: generated through ``POST /v1/reports/generate`` with a
real worker, downloaded through its signed link and read back like a reader reads it. The PDF's pages are
rendered to pixels (pypdfium2): none is blank and every chart image has drawn pixels; its text holds the API's
numbers (``GET /v1/costs/overview``) as the PDF shows money (rounded half-even to cents, thousands
separators). The workbook (openpyxl), the CSV archive and the JSON hold the same numbers, exact. Each finished
report reaches its requester on the ``notifications`` WebSocket channel."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.events import EventPublisher
from cloudoptima.services.report_retention import prune_organisation
from cloudoptima.services.reports import reports_config_from_settings
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.queues import REPORTS
from cloudoptima_workflows.reports.activities import ReportActivities
from cloudoptima_workflows.reports.workflows import GenerateReportWorkflow
from tests.gateway.conftest import Org, add_daily_costs, make_org

START, END = date(2026, 10, 1), date(2026, 11, 1)
PREVIOUS = date(2026, 9, 1)
PERIOD = {"start_date": START.isoformat(), "end_date": END.isoformat()}
CENT = Decimal("0.01")
# Daily amounts (October, September). October's sums are chosen so that rounding shows: EC2 3,827.1577 and
# RDS 1,398.875 need thousands separators and rounding; S3 10.385 is 10.38 half-even (10.39 half-up).
DAILY = {
    "AmazonEC2": (Decimal("123.4567"), Decimal("100.00")),
    "AmazonRDS": (Decimal("45.125"), Decimal("40.00")),
    "AmazonS3": (Decimal("0.335"), Decimal("0.50")),
}
EXACT = {service: now * 31 for service, (now, _) in DAILY.items()}
WHITE = 250  # a channel value at or above this counts as paper


def _shown(value: Decimal) -> str:
    """Money as the PDF shows it: half-even to cents, thousands separators."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_EVEN):,.2f}"


@pytest.fixture(scope="module")
def org(engine: Engine, gateway_settings: Settings) -> Org:
    org = make_org(engine, gateway_settings, name="reports-output")
    costs = []
    for day in (PREVIOUS + timedelta(days=n) for n in range((END - PREVIOUS).days)):
        for service, (now, before) in DAILY.items():
            costs.append((day, service, now if day >= START else before))
    add_daily_costs(engine, org.id, costs)
    return org


@asynccontextmanager
async def worker(
    env: WorkflowEnvironment, engine: Engine, settings: Settings, publish: EventPublisher
) -> AsyncIterator[None]:
    activities = ReportActivities(
        session_factory(engine), reports_config_from_settings(settings), None, publish=publish
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


async def _generate(client: TestClient, org: Org, fmt: str) -> str:
    body = {"template_id": "monthly_cost_review", "parameters": PERIOD, "format": fmt}
    response = await asyncio.to_thread(
        client.post, "/v1/reports/generate", json=body, headers=org.headers("analyst")
    )  # type: ignore[arg-type]
    assert response.status_code == 202, response.text
    return str(response.json()["report_id"])


async def _completed(client: TestClient, org: Org, report_id: str) -> dict[str, Any]:
    for _ in range(300):
        response = await asyncio.to_thread(
            client.get, f"/v1/reports/{report_id}", headers=org.headers("analyst")
        )
        body: dict[str, Any] = response.json()
        if body["status"] != "generating":
            assert body["status"] == "completed", body
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"report {report_id} did not finish: {body}")


def _download(client: TestClient, report: dict[str, Any]) -> bytes:
    response = client.get(report["download_url"])  # the signed link is the credential
    assert response.status_code == 200, response.text
    return response.content


def _ink(pixels: Any) -> float:
    """The fraction of pixels that are not paper-white (any channel below :data:`WHITE`)."""
    return float((pixels[..., :3] < WHITE).any(axis=-1).mean())


def _look_at_pdf(data: bytes) -> tuple[list[str], list[float], list[float]]:
    """Every page's text and ink fraction, and the ink fraction inside each image (chart) on any page."""
    document = pdfium.PdfDocument(data)
    texts: list[str] = []
    page_ink: list[float] = []
    chart_ink: list[float] = []
    try:
        for page in document:
            scale = 1.5
            bitmap = page.render(scale=scale)
            pixels = bitmap.to_numpy().copy()
            bitmap.close()
            page_ink.append(_ink(pixels))
            height = page.get_height()
            for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
                left, bottom, right, top = image.get_bounds()
                box = pixels[
                    int((height - top) * scale) : int((height - bottom) * scale),
                    int(left * scale) : int(right * scale),
                ]
                assert box.size > 0
                chart_ink.append(_ink(box))
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        document.close()
    return texts, page_ink, chart_ink


async def test_the_reports_show_the_apis_numbers(
    client: TestClient,
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    gateway_settings: Settings,
    redis_url: str,
    org: Org,
) -> None:
    from openpyxl import load_workbook

    overview = client.get(
        "/v1/costs/overview", params={**PERIOD, "group_by": "service"}, headers=org.headers("viewer")
    )
    assert overview.status_code == 200, overview.text
    api = overview.json()
    total = Decimal(str(api["total_cost"]))
    previous = Decimal(str(api["period_comparison"]["previous_period"]))
    by_service = {item["dimension"]: Decimal(str(item["cost"])) for item in api["breakdown"]}
    # the API's numbers are the seeded ones rounded half-even to cents
    assert by_service == {s: v.quantize(CENT, rounding=ROUND_HALF_EVEN) for s, v in EXACT.items()}
    assert by_service["AmazonS3"] == Decimal("10.38")
    assert total == Decimal("5236.42") and previous == Decimal("4215.00")

    publish = EventPublisher(redis.Redis.from_url(redis_url))
    try:
        with client.websocket_connect(f"/v1/stream?token={org.tokens['analyst']}") as socket:
            socket.send_json({"type": "subscribe", "channel": "notifications"})
            assert socket.receive_json() == {"type": "subscribed", "channel": "notifications"}
            async with worker(temporal_env, engine, gateway_settings, publish):
                ids = {fmt: await _generate(client, org, fmt) for fmt in ("pdf", "excel", "csv", "json")}
                reports = {fmt: await _completed(client, org, report_id) for fmt, report_id in ids.items()}
            pushed = [await asyncio.wait_for(asyncio.to_thread(socket.receive_json), 30) for _ in ids]
    finally:
        publish.close()
    notices = {p["data"]["notification"]["payload"]["report_id"]: p["data"]["notification"] for p in pushed}
    assert set(notices) == set(ids.values())
    for fmt, report_id in ids.items():
        notice = notices[report_id]
        assert notice["event_type"] == "report.ready" and notice["severity"] == "info"
        assert notice["link"] == f"/v1/reports/{report_id}"
        assert notice["payload"]["format"] == fmt and notice["payload"]["period"] == PERIOD
        assert notice["payload"]["size_bytes"] == reports[fmt]["size_bytes"]
    inbox = client.get("/v1/notifications", headers=org.headers("analyst")).json()["items"]
    assert sorted(i["id"] for i in inbox if i["event_type"] == "report.ready") == sorted(
        n["id"] for n in notices.values()
    )

    # PDF: rendered page by page; nothing blank, the charts drawn, the API's numbers in the text.
    texts, page_ink, chart_ink = _look_at_pdf(_download(client, reports["pdf"]))
    assert len(texts) >= 5  # title page, overview (charts), by account, by service, by region
    assert all(ink > 0.002 for ink in page_ink), page_ink
    assert len(chart_ink) >= 2 and all(ink > 0.03 for ink in chart_ink), chart_ink
    assert f"{_shown(total)} USD" in texts[0]  # the title page's highlights
    assert f"{_shown(previous)} USD" in texts[0]
    service_page = next(t for t in texts if "Cost by service" in t)
    for service, cost in by_service.items():
        line = next(row for row in service_page.splitlines() if row.startswith(service))
        assert _shown(cost) in line, (service, line)
    assert "10.38" in service_page and "10.39" not in service_page  # half-even, not half-up
    assert "3,827.16" in service_page and "1,398.88" in service_page

    # Excel: the Summary's highlights and the By service sheet's cells are the API's numbers to the cent.
    workbook = load_workbook(io.BytesIO(_download(client, reports["excel"])))
    try:
        facts = {row[0].value: row[1].value for row in workbook["Summary"].iter_rows() if len(row) > 1}
        assert Decimal(str(facts["Total cost"])).quantize(CENT) == total
        previous_label = next(k for k in facts if isinstance(k, str) and k.startswith("Previous period"))
        assert Decimal(str(facts[previous_label])).quantize(CENT) == previous
        rows = {
            row[0]: row[1]
            for row in workbook["By service"].iter_rows(values_only=True)
            if row[0] in by_service
        }
    finally:
        workbook.close()
    assert {s: Decimal(str(v)).quantize(CENT) for s, v in rows.items()} == by_service

    # CSV archive: the by-service table with exact values, its total row the exact sum.
    with zipfile.ZipFile(io.BytesIO(_download(client, reports["csv"]))) as archive:
        name = next(n for n in archive.namelist() if n.endswith("-by_service-services.csv"))
        table = list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
    exact = {row["name"]: Decimal(row["cost"]) for row in table if row["name"] in EXACT}
    assert exact == EXACT
    assert {s: v.quantize(CENT, rounding=ROUND_HALF_EVEN) for s, v in exact.items()} == by_service
    (totals,) = [row for row in table if row["name"] == "Total"]
    assert Decimal(totals["cost"]) == sum(EXACT.values())
    assert Decimal(totals["cost"]).quantize(CENT, rounding=ROUND_HALF_EVEN) == total

    # JSON: exact values, the highlights equal to the API's total and previous period to the cent.
    body = json.loads(_download(client, reports["json"]))
    highlights = {h["label"]: h["value"] for h in body["document"]["highlights"]}
    assert Decimal(highlights["Total cost"]) == sum(EXACT.values())
    assert Decimal(highlights["Total cost"]).quantize(CENT, rounding=ROUND_HALF_EVEN) == total
    previous_value = next(v for k, v in highlights.items() if k.startswith("Previous period"))
    assert Decimal(previous_value) == previous
    section = next(s for s in body["document"]["sections"] if s["id"] == "by_service")
    services = section["tables"][0]
    keys = [c["key"] for c in services["columns"]]
    json_rows = {row[keys.index("name")]: Decimal(row[keys.index("cost")]) for row in services["rows"]}
    assert json_rows == EXACT

    # Once expired, the weekly cleanup deletes the file: the report is still listed, without a link, and its
    # old link (still within its signature's time, as a clock behind the prune's would see it) answers 410.
    expires_at = max(datetime.fromisoformat(r["expires_at"]) for r in reports.values())
    store = reports_config_from_settings(gateway_settings).store
    assert prune_organisation(session_factory(engine), org.id, store, now=expires_at) == len(ids)
    after = client.get(f"/v1/reports/{ids['json']}", headers=org.headers("analyst")).json()
    assert after["status"] == "completed" and after["download_url"] is None
    assert (
        after["sha256"] == reports["json"]["sha256"] and after["expires_at"] == reports["json"]["expires_at"]
    )
    gone = client.get(reports["json"]["download_url"])
    assert gone.status_code == 410, gone.text
