"""The console's Anomalies screen in a real Chromium against ``cloudoptima up``'s demo organisation: the list
shows the API's incidents newest first, the first one's detail shows the API's stored explanation and impact,
and the first status change the screen offers changes the status on the screen and in the API (then changed
back from the screen, so the shared demo stack keeps its incidents as they were for the other browser tests)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

ANALYSIS_TIMEOUT_S = 180


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _anomalies(stack: Stack) -> list[dict[str, Any]]:
    """The demo organisation's incidents once its first analysis run has explained them (``cloudoptima
    up`` starts that run in the background)."""
    deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
    while True:
        answer = await stack.api("/v1/costs/anomalies", limit="500")
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["anomalies"]
        if rows and all(r["root_cause"] for r in rows):
            return rows
        assert time.monotonic() < deadline, f"no explained anomalies after {ANALYSIS_TIMEOUT_S} s: {rows}"
        await asyncio.sleep(1)


async def _status_of(stack: Stack, anomaly_id: str, status: str) -> bool:
    answer = await stack.api("/v1/costs/anomalies", status=status, limit="500")
    assert answer.status_code == 200, answer.text
    return any(r["id"] == anomaly_id for r in answer.json()["anomalies"])


async def _set_status(stack: Stack, anomaly_id: str, status: str) -> httpx.Response:
    """Another client (the demo organisation's API key) changes an incident's status."""
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        return await client.post(
            f"/v1/costs/anomalies/{anomaly_id}/status",
            json={"status": status},
            headers={"X-API-Key": stack.api_key},
        )


@pytest.mark.usefixtures("console_built")
async def test_anomaly_detail_shows_the_stored_explanation_and_its_status_change_reaches_the_api(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    listed = await _anomalies(stack)

    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("nav-anomalies").click()

    table = page.get_by_test_id("anomalies-table")
    await expect(table).to_have_attribute("data-total", str(len(listed)))
    rows = page.get_by_test_id("anomaly-row")
    await expect(rows).to_have_count(len(listed))
    first = rows.first
    anomaly_id = str(await first.get_attribute("data-id"))
    newest = max(r["start_date"] or "" for r in listed)
    stored = next(r for r in listed if r["id"] == anomaly_id)
    assert (stored["start_date"] or "") == newest, "the list is newest first"

    await first.get_by_test_id("anomaly-link").click()
    detail = page.get_by_test_id("anomaly-detail")
    await expect(detail).to_have_attribute("data-state", "ready")
    await expect(detail).to_have_attribute("data-id", anomaly_id)
    # The explanation as short points (its lines or sentences), all of its words, none lost.
    points = page.get_by_test_id("anomaly-explanation-point")
    await expect(points.first).to_be_visible()
    said = [p.strip() for p in await points.all_inner_texts()]
    assert len(said) > 1 and " ".join(said).split() == str(stored["root_cause"]).split(), said
    impact = page.get_by_test_id("anomaly-detail-impact")
    assert Decimal(str(await impact.get_attribute("data-value"))) == Decimal(
        str(stored["impact_amount"])
    ).quantize(Decimal("0.01"))
    assert stored["currency"] == "USD", "the demo estate's costs are in USD"
    await expect(impact).to_contain_text("$")  # money with its currency, not a bare number
    drivers = stored["drivers"] or {}
    stored_bars = sum(len(drivers.get(group) or []) for group in ("resources", "usage_types", "tags"))
    await expect(page.get_by_test_id("anomaly-contributions")).to_have_attribute(
        "data-count", str(stored_bars)
    )

    was = stored["status"]
    await expect(page.get_by_test_id("anomaly-detail-status")).to_have_attribute("data-value", was)
    action = page.get_by_test_id("anomaly-actions").locator("button[data-status]").first
    target = str(await action.get_attribute("data-status"))
    assert target != was
    await action.click()
    await expect(page.get_by_test_id("anomaly-detail-status")).to_have_attribute("data-value", target)
    assert await _status_of(stack, anomaly_id, target)
    assert not await _status_of(stack, anomaly_id, was)

    await page.get_by_test_id("anomaly-actions").locator(f'button[data-status="{was}"]').click()
    await expect(page.get_by_test_id("anomaly-detail-status")).to_have_attribute("data-value", was)
    assert await _status_of(stack, anomaly_id, was)

    # Another person's change arrives on the anomalies channel: the detail reloads in place and keeps the
    # note being typed (useLoad keeps the previous answer while refreshing instead of showing "Loading…").
    note = page.get_by_test_id("anomaly-note")
    await note.fill("checking with the data team")
    for status in (target, was):  # changed, then put back for the other browser tests
        assert (await _set_status(stack, anomaly_id, status)).status_code == 200
        await expect(page.get_by_test_id("anomaly-detail-status")).to_have_attribute("data-value", status)
        await expect(note).to_have_value("checking with the data team")

    # On a phone the detail fits the width (the chart and long resource ids wrap instead of overflowing): laid
    # out at the phone's content width, nothing inside it is wider (the shell's top bar is measured elsewhere).
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.get_by_test_id("anomaly-contributions")).to_be_visible()
    overflow = await page.get_by_test_id("anomaly-detail").evaluate(
        "e => { e.style.width = (window.innerWidth - 24) + 'px'; const o = e.scrollWidth - e.clientWidth;"
        " e.style.width = ''; return o; }"
    )
    assert overflow <= 0, f"the detail overflows a phone's width by {overflow} px"

    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []
