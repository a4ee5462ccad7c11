"""The Savings screen (#22) in a real Chromium on the demo stack: each ledger bucket's count and estimated
monthly sum (and the realised bucket's per-currency amounts) are the ones ``GET /v1/savings`` answers."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _settled_ledger(stack: Stack) -> dict[str, Any]:
    """The ledger's buckets once the first analysis (started by ``cloudoptima up`` in the background) has
    produced recommendations and two reads 2 s apart agree (the analysis has finished writing)."""
    deadline = time.monotonic() + 240
    previous: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        answer = await stack.api("/v1/savings", limit="50")
        assert answer.status_code == 200, answer.text
        buckets: dict[str, Any] = answer.json()["buckets"]
        if sum(b["count"] for b in buckets.values()) > 0 and buckets == previous:
            return buckets
        previous = buckets
        await asyncio.sleep(2)
    raise AssertionError(f"the demo estate's ledger did not settle with recommendations: {previous}")


@pytest.mark.usefixtures("console_built")
async def test_savings_buckets_equal_the_api(page: Page, page_log: PageLog, stack: Stack) -> None:
    settled = await _settled_ledger(stack)
    await page.goto(stack.base_url + "/savings")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("savings-buckets")).to_have_attribute("data-state", "ready")

    answer = await stack.api("/v1/savings", limit="50")
    assert answer.status_code == 200, answer.text
    buckets = answer.json()["buckets"]
    assert set(buckets) == {"open", "accepted", "applying", "applied", "realised"}
    assert buckets == settled, "the ledger changed while the page loaded"
    for key, bucket in buckets.items():
        expected = Decimal(str(bucket["estimated_monthly"])).quantize(Decimal("0.01"))
        await expect(page.get_by_test_id(f"savings-bucket-{key}")).to_have_attribute(
            "data-count", str(bucket["count"])
        )
        await expect(page.get_by_test_id(f"savings-bucket-{key}-estimated")).to_have_attribute(
            "data-value", f"{expected}"
        )
    await expect(page.get_by_test_id("savings-bucket-accepted-owners")).to_have_attribute(
        "data-overdue", str(buckets["accepted"]["overdue"])
    )
    realised = buckets["realised"]["realised_monthly"]
    shown = " ".join(
        f"{currency}:{Decimal(str(realised[currency])).quantize(Decimal('0.01'))}"
        for currency in sorted(realised)
    )
    await expect(page.get_by_test_id("savings-bucket-realised-amounts")).to_have_attribute(
        "data-value", shown
    )
    await expect(page.get_by_test_id("savings-row")).to_have_count(len(answer.json()["items"]))
