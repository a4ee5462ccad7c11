"""The console at ``/`` in a real Chromium: the demo login from ``cloudoptima up`` signs in, and the
Overview's month-to-date total is the API's ``total_cost`` for month to date (``period=month_to_date``: its
complete days against the same days of last month), labelled with the period the API's ``trend_basis`` states."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


@pytest.mark.usefixtures("console_built")
async def test_demo_login_shows_the_apis_month_to_date_total(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    asked: list[dict[str, list[str]]] = []

    def on_request(sent: Request) -> None:
        if urlsplit(sent.url).path == "/v1/costs/overview":
            asked.append(parse_qs(urlsplit(sent.url).query))

    page.on("request", on_request)
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    total = page.get_by_test_id("overview-mtd-total")
    await expect(total).to_have_attribute("data-value", re.compile(r"^-?\d+\.\d{2}$"))
    shown = Decimal(str(await total.get_attribute("data-value")))

    month_to_date = [q for q in asked if q.get("period") == ["month_to_date"]]
    assert month_to_date and "start_date" not in month_to_date[0], asked
    answer = await stack.api("/v1/costs/overview", period="month_to_date", group_by="service")
    assert answer.status_code == 200, answer.text
    expected = Decimal(str(answer.json()["total_cost"])).quantize(Decimal("0.01"))
    assert expected > 0, "the demo estate has spend this month"
    assert shown == expected
    assert f"{expected:,.2f}" in await total.inner_text()
    # The card says what it covers, as the API's trend_basis (which by-service shares): complete days only.
    basis = answer.json()["trend_basis"]
    by_service = await stack.api("/v1/costs/by-service")
    assert by_service.json()["trend_basis"] == basis
    label = page.get_by_test_id("overview-mtd-basis")
    await expect(label).to_have_attribute("data-start", basis["current_start"])
    await expect(label).to_have_attribute("data-end", basis["current_end"])
    await expect(label).to_have_attribute("data-previous-end", basis["previous_end"])
    assert basis["current_end"] == datetime.now(UTC).date().isoformat()  # today's unfinished day is not in it
    previous = Decimal(str(answer.json()["period_comparison"]["previous_period"])).quantize(Decimal("0.01"))
    await expect(page.get_by_test_id("overview-mtd-previous")).to_have_attribute(
        "data-value", f"{previous:.2f}"
    )
    assert " vs " in await label.inner_text()

    # Open savings: the API has no savings total, so the card sums every active recommendation's estimate.
    recs = await stack.api("/v1/recommendations", status="active", limit="500")
    assert recs.status_code == 200, recs.text
    assert recs.json()["next_cursor"] is None, "the demo's active recommendations fit one page"
    estimates = [r["estimated_savings_monthly"] for r in recs.json()["recommendations"]]
    open_savings = sum((Decimal(str(e)) for e in estimates if e is not None), Decimal(0))
    savings = page.get_by_test_id("overview-savings-open")
    await expect(savings).to_have_attribute("data-value", f"{open_savings.quantize(Decimal('0.01'))}")

    # Top tags: the first rollup tag key's tagged values, the untagged remainder apart.
    org = await stack.api("/v1/organization")
    key = org.json()["settings"]["rollup_tag_keys"][0]
    start, end = basis["current_start"], basis["current_end"]  # the other cards cover month to date too
    by_tag = await stack.api(
        "/v1/costs/overview", start_date=start, end_date=end, group_by="tag", tag_key=key
    )
    assert by_tag.status_code == 200, by_tag.text
    tagged = [b for b in by_tag.json()["breakdown"] if b["dimension"] != "(untagged)"][:5]
    assert tagged, f"the demo estate carries the {key!r} tag"
    await expect(page.get_by_test_id("overview-top-tags-list-item")).to_have_count(len(tagged))
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []
