"""``/docs`` in a real Chromium with nothing but the gateway reachable: Swagger UI renders the operations
list from the gateway's own assets, with no console error and no request to another origin."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PageLog, Stack

pytestmark = pytest.mark.e2e


async def test_swagger_ui_renders_the_operations_offline(page: Page, page_log: PageLog, stack: Stack) -> None:
    await page.goto(stack.base_url + "/docs")
    # Swagger UI's block for GET /v1/costs/overview (id: operations-<tag>-<operationId>).
    overview = page.locator('[id^="operations-"][id$="_v1_costs_overview_get"]')
    await expect(overview).to_have_count(1)
    await expect(overview.locator(".opblock-summary-path")).to_have_text("/v1/costs/overview")
    # It opens: the parameters of the operation are listed.
    await overview.locator(".opblock-summary").click()
    await expect(overview.locator('tr[data-param-name="start_date"]')).to_be_visible()
    assert page_log.foreign_requests == []
    assert page_log.console_errors() == [] and page_log.errors == []


async def test_redoc_renders_offline_and_only_its_vendor_logo_is_refused(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    await page.goto(stack.base_url + "/redoc")
    await expect(page.get_by_text("/v1/costs/overview", exact=True).first).to_be_attached()
    assert page_log.errors == []
    # ReDoc's bundle always asks for its vendor's logo; the page's policy refuses it (nothing is fetched).
    assert all("cdn.redoc.ly" in message for message in page_log.console_errors()), page_log.console
