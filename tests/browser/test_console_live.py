"""Live refresh in a real Chromium: with the Overview open, a second client (the demo's API key, no browser)
starts a sync of a sandbox account through the public API; when the worker finishes it, it publishes
``cost_updates`` over the WebSocket and the Overview's "Data freshness" card shows the account's new last
sync — the very value the API then answers — without a reload of the page. Likewise an anomaly another
client re-opens or resolves (then restores) through the API changes the "Open anomalies" count at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT_MS = 120_000
ANALYSIS_TIMEOUT_S = 180


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


@pytest.mark.usefixtures("console_built")
async def test_the_overview_shows_a_sync_another_client_started(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    documents: list[str] = []

    def on_request(sent: Request) -> None:
        if sent.resource_type == "document":
            documents.append(sent.url)

    page.on("request", on_request)
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()

    accounts = (await stack.api("/v1/cloud-accounts")).json()["accounts"]
    target = accounts[-1]  # the other browser test syncs the first one
    name = str(target["account_name"] or target["account_id"])
    item = page.get_by_test_id("overview-freshness-item").filter(has_text=name)
    synced = item.locator("span[title]").first
    await expect(synced).to_have_attribute("title", str(target["last_sync"]))
    loaded = len(documents)

    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        started = await client.post(
            f"/v1/cloud-accounts/{target['id']}/sync", json={}, headers={"X-API-Key": stack.api_key}
        )
    assert started.status_code in (200, 202), started.text

    await expect(synced).not_to_have_attribute("title", str(target["last_sync"]), timeout=SYNC_TIMEOUT_MS)
    after = {a["id"]: a for a in (await stack.api("/v1/cloud-accounts")).json()["accounts"]}
    assert str(after[target["id"]]["last_sync"]) > str(target["last_sync"])
    await expect(synced).to_have_attribute("title", str(after[target["id"]]["last_sync"]))
    assert len(documents) == loaded, f"the page was reloaded: {documents}"
    assert page_log.errors == [] and page_log.foreign_requests == []


async def _anomalies(stack: Stack) -> list[dict[str, Any]]:
    """The demo's incidents once ``cloudoptima up``'s first analysis run has stored them."""
    deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
    while True:
        answer = await stack.api("/v1/costs/anomalies", limit="500")
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["anomalies"]
        if rows:
            return rows
        assert time.monotonic() < deadline, f"no anomalies after {ANALYSIS_TIMEOUT_S} s"
        await asyncio.sleep(1)


async def _open_count(stack: Stack) -> int:
    answer = await stack.api("/v1/costs/anomalies", status="active", limit="500")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


@pytest.mark.usefixtures("console_built")
async def test_the_overview_counts_an_anomaly_another_client_triaged(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    target = (await _anomalies(stack))[0]
    was = str(target["status"])
    other_status = "resolved" if was == "active" else "active"
    documents: list[str] = []
    page.on("request", lambda sent: documents.append(sent.url) if sent.resource_type == "document" else None)
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    count = page.get_by_test_id("overview-anomalies-count")
    before = await _open_count(stack)
    await expect(count).to_have_attribute("data-value", str(before))
    loaded = len(documents)

    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
    ) as other:
        changed = await other.post(
            f"/v1/costs/anomalies/{target['id']}/status", json={"status": other_status}
        )
        assert changed.status_code == 200, changed.text
        during = await _open_count(stack)
        assert during == before + (1 if other_status == "active" else -1)
        await expect(count).to_have_attribute("data-value", str(during))
        restored = await other.post(f"/v1/costs/anomalies/{target['id']}/status", json={"status": was})
        assert restored.status_code == 200, restored.text
        await expect(count).to_have_attribute("data-value", str(before))
    assert len(documents) == loaded, f"the page was reloaded: {documents}"
    assert page_log.errors == [] and page_log.foreign_requests == []
