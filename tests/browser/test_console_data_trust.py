"""The chart warning of #21 in a real Chromium: the Overview's trend shows the days the API's
``/v1/data/unreconciled-days`` names for the trend's period (the demo's latest days are open to restatement),
and the Cost explorer shows a warning only when the API names days of its period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e
RESTATING = "open to restatement by the provider"


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


@pytest.mark.usefixtures("console_built")
async def test_trend_and_explorer_warn_about_the_days_the_api_names(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    today = datetime.now(UTC).date()
    start, end = today + timedelta(days=1 - 90), today + timedelta(days=1)
    answer = await stack.api("/v1/data/unreconciled-days", start_date=str(start), end_date=str(end))
    assert answer.status_code == 200, answer.text
    reasons: dict[str, list[str]] = answer.json()["reasons"]
    restating = [d for d, r in reasons.items() if all(x == RESTATING for x in r)]
    assert restating, "the trend's last days are always open to restatement"

    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    warning = page.get_by_test_id("overview-trust-warning")
    await expect(warning).to_have_attribute("data-restating-days", str(len(restating)))
    await expect(warning).to_have_attribute("data-problem-days", str(len(reasons) - len(restating)))
    assert min(restating) in await warning.inner_text()
    await expect(
        page.get_by_test_id("overview-trend").get_by_test_id("overview-trust-warning")
    ).to_have_count(1)

    await page.get_by_test_id("nav-costs").click()
    await page.get_by_test_id("explorer-preset-last_month").click()
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    period = {"start_date": previous.isoformat(), "end_date": first.isoformat()}
    result = page.get_by_test_id("explorer-result")
    await expect(result).to_have_attribute("data-start", period["start_date"])
    await expect(result).to_have_attribute("data-end", period["end_date"])
    last_month = (await stack.api("/v1/data/unreconciled-days", **period)).json()
    explorer_warning = page.get_by_test_id("explorer-trust-warning")
    if last_month["unreconciled_days"]:
        await expect(explorer_warning).to_be_visible()
    else:
        await page.wait_for_load_state("networkidle")
        await expect(explorer_warning).to_have_count(0)
    assert not page_log.errors
