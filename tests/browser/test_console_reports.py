"""The console's Reports screen and notification bell in a real Chromium: the demo admin generates a JSON
monthly cost review, the list shows it completed with a signed download link whose JSON total is the API's
overview total for that period, and the bell's unread count goes up by one (the ``report.ready`` notice pushed
on the ``notifications`` WebSocket channel) without reloading the page."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


def _last_full_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1)
    start = date(end.year - 1, 12, 1) if end.month == 1 else date(end.year, end.month - 1, 1)
    return start, end


def _report_total(body: dict[str, Any]) -> Decimal:
    """The ``Total cost`` of the review's period comparison table (its first value column)."""
    for section in body["document"]["sections"]:
        for table in section["tables"]:
            if table["id"] == "period_comparison":
                row = next(r for r in table["rows"] if r[0] == "Total cost")
                return Decimal(str(row[1]))
    raise AssertionError("no period_comparison table in the report")


@pytest.mark.usefixtures("console_built")
async def test_json_monthly_review_downloads_the_apis_total_and_rings_the_bell(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    start, end = _last_full_month(datetime.now(UTC).date())
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()

    bell = page.get_by_test_id("notification-bell")
    await expect(bell).to_have_attribute("data-count", re.compile(r"^\d+$"))
    before = int(str(await bell.get_attribute("data-count")))

    await page.get_by_test_id("nav-reports").click()
    await page.get_by_test_id("reports-template").select_option("monthly_cost_review")
    await page.get_by_test_id("reports-param-start_date").fill(start.isoformat())
    await page.get_by_test_id("reports-param-end_date").fill(end.isoformat())
    await page.get_by_test_id("reports-format").select_option("json")
    async with page.expect_response(lambda r: r.url.endswith("/v1/reports/generate")) as answered:
        await page.get_by_test_id("reports-generate").click()
    response = await answered.value
    assert response.status == 202, await response.text()
    report_id = (await response.json())["report_id"]

    row = page.locator(f'[data-testid="reports-row"][data-id="{report_id}"]')
    await expect(row).to_have_attribute("data-status", "completed", timeout=90_000)
    link = row.get_by_test_id("reports-download")
    href = str(await link.get_attribute("href"))
    async with httpx.AsyncClient(timeout=30) as client:
        download = await client.get(urljoin(stack.base_url + "/", href))
    assert download.status_code == 200, download.text
    shown = _report_total(json.loads(download.content))

    overview = await stack.api(
        "/v1/costs/overview", start_date=start.isoformat(), end_date=end.isoformat(), granularity="daily"
    )
    assert overview.status_code == 200, overview.text
    expected = Decimal(str(overview.json()["total_cost"]))
    assert expected > 0, "the demo estate has spend last month"
    assert shown.quantize(Decimal("0.01")) == expected.quantize(Decimal("0.01"))

    # The report.ready notice arrives on the WebSocket: the bell counts it without a reload.
    await expect(bell).to_have_attribute("data-count", str(before + 1), timeout=30_000)
    await bell.click()
    notice = page.locator('[data-testid="notification-item"][data-event="report.ready"]').first
    await expect(notice).to_have_attribute("data-read", "false")
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []
