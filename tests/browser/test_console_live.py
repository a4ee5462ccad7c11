"""Live refresh in a real Chromium: with the Overview open, a second client (the demo's API key, no browser)
starts a sync of a sandbox account through the public API; when the worker finishes it, it publishes
``cost_updates`` over the WebSocket and the Overview's "Data freshness" card shows the account's new last
sync — the very value the API then answers — without a reload of the page."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT_MS = 120_000


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
