"""A link to one anomaly (what a notice's link opens in the console): ``/anomalies/<id>`` opened directly, after
signing in, shows that incident as ``GET /v1/costs/anomalies/{id}`` answers it — asking the API for that one
incident, never searching the list — and an unknown id shows the API's 404 message."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

ANALYSIS_TIMEOUT_S = 180


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _first_anomaly(stack: Stack) -> dict[str, Any]:
    """One of the demo's incidents once ``cloudoptima up``'s first analysis run has stored them."""
    deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
    while True:
        answer = await stack.api("/v1/costs/anomalies", limit="500")
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["anomalies"]
        if rows:
            return rows[-1]
        assert time.monotonic() < deadline, f"no anomalies after {ANALYSIS_TIMEOUT_S} s"
        await asyncio.sleep(1)


@pytest.mark.usefixtures("console_built")
async def test_a_link_to_one_anomaly_opens_its_detail(page: Page, page_log: PageLog, stack: Stack) -> None:
    listed = await _first_anomaly(stack)
    one = await stack.api(f"/v1/costs/anomalies/{listed['id']}")
    assert one.status_code == 200, one.text
    stored = one.json()
    asked: list[str] = []

    def on_request(sent: Request) -> None:
        path = urlsplit(sent.url).path
        if path.startswith("/v1/costs/anomalies"):
            asked.append(path)

    page.on("request", on_request)
    await page.goto(f"{stack.base_url}/anomalies/{stored['id']}")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()

    detail = page.get_by_test_id("anomaly-detail")
    await expect(detail).to_have_attribute("data-state", "ready")
    await expect(detail).to_have_attribute("data-id", stored["id"])
    await expect(page.get_by_test_id("anomaly-detail-status")).to_have_attribute(
        "data-value", stored["status"]
    )
    impact = page.get_by_test_id("anomaly-detail-impact")
    assert Decimal(str(await impact.get_attribute("data-value"))) == Decimal(
        str(stored["impact_amount"])
    ).quantize(Decimal("0.01"))
    assert set(asked) == {f"/v1/costs/anomalies/{stored['id']}"}, asked

    unknown = uuid.uuid4()
    # In the same signed-in page (the session lives in memory): the history entry a link click would push.
    await page.evaluate(
        "p => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')); }",
        f"/anomalies/{unknown}",
    )
    missing = page.get_by_test_id("anomaly-detail")
    await expect(missing).to_have_attribute("data-state", "error")
    await expect(missing.get_by_role("alert")).to_have_text(f"anomaly {unknown} not found")
    assert page_log.errors == [] and page_log.foreign_requests == []
