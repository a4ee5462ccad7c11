"""The Cost explorer and Budgets screens in a real Chromium, as the demo admin: last month grouped by service
shows GET /v1/costs/overview's total for that period and its CSV export's rows add up to it; a budget for a
misspelt service shows the API's refusal with its suggestion next to the field."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

CENT = Decimal("0.01")


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _sign_in(page: Page, stack: Stack) -> None:
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("app-shell")).to_be_visible()


def _last_month() -> tuple[str, str]:
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    previous = (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )
    return previous.isoformat(), first.isoformat()


@pytest.mark.usefixtures("console_built")
async def test_explorer_last_month_by_service_matches_the_api_and_its_csv(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    await _sign_in(page, stack)
    await page.get_by_test_id("nav-costs").click()
    await page.get_by_test_id("explorer-preset-last_month").click()
    start, end = _last_month()
    result = page.get_by_test_id("explorer-result")
    await expect(result).to_have_attribute("data-start", start)
    await expect(result).to_have_attribute("data-end", end)
    await expect(result).to_have_attribute("data-group-by", "service")

    answer = await stack.api("/v1/costs/overview", start_date=start, end_date=end, group_by="service")
    assert answer.status_code == 200, answer.text
    expected = Decimal(str(answer.json()["total_cost"])).quantize(CENT)
    assert expected > 0, "the demo estate has spend last month"
    total = page.get_by_test_id("explorer-total")
    assert Decimal(str(await total.get_attribute("data-value"))) == expected
    assert f"{expected:,.2f}" in await total.inner_text()
    listed = [r["dimension"] for r in answer.json()["breakdown"]]
    dimensions = [
        await r.get_attribute("data-dimension") for r in await page.get_by_test_id("explorer-row").all()
    ]
    assert [d for d in dimensions if d != "(other)"] == listed

    async with page.expect_download() as waiting:
        await page.get_by_test_id("explorer-export").click()
    download = await waiting.value
    assert download.suggested_filename == f"costs-by-service-{start}-to-{_day_before(end)}.csv"
    path = await download.path()
    text = path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    currency = answer.json()["currency"]
    costs = [Decimal(r[f"cost_{currency}"]) for r in rows]
    assert len(rows) >= 2 and all(re.fullmatch(r"-?\d+\.\d{2}", r[f"cost_{currency}"]) for r in rows)
    # Each row is the API's cent-rounded group cost: their sum is the total up to half a cent per row.
    assert abs(sum(costs) - expected) <= Decimal("0.005") * len(rows), (sum(costs), expected)
    shown = [
        await c.get_attribute("data-value") for c in await page.get_by_test_id("explorer-row-cost").all()
    ]
    assert shown == [r[f"cost_{currency}"] for r in rows]
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


@pytest.mark.usefixtures("console_built")
async def test_a_budget_for_a_misspelt_service_shows_the_apis_suggestion(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    start, end = _last_month()
    answer = await stack.api("/v1/costs/overview", start_date=start, end_date=end, group_by="service")
    service = str(answer.json()["breakdown"][0]["dimension"])
    misspelt = service[:-1] + ("x" if service[-1] != "x" else "y")

    await _sign_in(page, stack)
    await page.get_by_test_id("nav-budgets").click()
    await expect(page.get_by_test_id("budgets-list")).to_have_attribute("data-state", "ready")
    await page.get_by_test_id("budget-new").click()
    await page.get_by_test_id("budget-name").fill("Misspelt service budget")
    await page.get_by_test_id("budget-amount").fill("1000")
    await page.get_by_test_id("budget-scope-type").select_option("service")
    await page.get_by_test_id("budget-values").fill(misspelt)
    await page.get_by_test_id("budget-save").click()

    error = page.get_by_test_id("budget-error-values")
    await expect(error).to_contain_text(f"unknown service '{misspelt}'")
    suggestion = error.get_by_test_id("budget-suggestion").first
    await expect(suggestion).to_have_attribute("data-value", service)
    await expect(page.get_by_test_id("budget-values")).to_have_attribute("aria-invalid", "true")
    await suggestion.click()
    await expect(page.get_by_test_id("budget-values")).to_have_value(service)
    await page.get_by_test_id("budget-cancel").click()
    listed = await stack.api("/v1/budgets")
    assert all(b["name"] != "Misspelt service budget" for b in listed.json()["budgets"])
    assert page_log.errors == []
    # The refused POST is the page's only console error (Chromium logs every failed request).
    assert all("422" in message for message in page_log.console_errors()), page_log.console_errors()


def _cent_string(value: float) -> str:
    return f"{Decimal(str(value)).quantize(CENT):.2f}"


@pytest.mark.usefixtures("console_built")
async def test_explorer_by_account_with_a_service_filter_matches_the_api_its_csv_and_its_link(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    start, end = _last_month()
    by_service = await stack.api("/v1/costs/overview", start_date=start, end_date=end, group_by="service")
    service = str(by_service.json()["breakdown"][0]["dimension"])
    query = {"start_date": start, "end_date": end, "group_by": "account", "service": service}
    answer = await stack.api("/v1/costs/overview", **query, series_by_group="true", series_groups="8")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["group_series"], "the demo estate has spend on its top service last month"

    await _sign_in(page, stack)
    await page.get_by_test_id("nav-costs").click()
    await page.get_by_test_id("explorer-preset-last_month").click()
    await page.get_by_test_id("explorer-group-by").select_option("account")
    services = page.get_by_test_id("explorer-services")
    await services.get_by_test_id("explorer-services-toggle").click()
    await services.get_by_test_id("explorer-services-search").fill(service[1:-1])
    option = services.locator(f'[data-testid="explorer-services-option"][data-value="{service}"]')
    await expect(option).to_have_count(1)
    await option.check()
    await services.get_by_test_id("explorer-services-search").press("Escape")
    await expect(services.get_by_test_id("explorer-services-toggle")).to_have_attribute(
        "aria-expanded", "false"
    )
    await expect(services.get_by_test_id("explorer-services-toggle")).to_have_text("1 selected")
    await expect(services.get_by_test_id("explorer-services-toggle")).to_be_focused()
    result = page.get_by_test_id("explorer-result")
    await expect(result).to_have_attribute("data-group-by", "account")
    await expect(page).to_have_url(re.compile(r"service="))
    total = page.get_by_test_id("explorer-group-total")
    expected_total = sum(Decimal(_cent_string(p["cost"])) for p in body["time_series"])
    await expect(total).to_have_attribute("data-value", f"{expected_total:.2f}")

    # the period × group table is the API's answer for the same query, cell by cell
    columns = [
        await c.get_attribute("data-key") for c in await page.get_by_test_id("explorer-group-column").all()
    ]
    assert columns == [s["key"] for s in body["group_series"]]
    table: list[list[str]] = []
    for row in await page.get_by_test_id("explorer-group-row").all():
        cells = [str(await c.get_attribute("data-value")) for c in await row.locator("td").all()]
        table.append([str(await row.get_attribute("data-period")), *cells])
    expected_rows = [
        [
            point["date"],
            *(_cent_string(s["points"][i]["cost"]) for s in body["group_series"]),
            _cent_string(point["cost"]),
        ]
        for i, point in enumerate(body["time_series"])
    ]
    assert table == expected_rows
    for row in table:  # each period's groups add up to its total, to the cent
        assert sum(Decimal(c) for c in row[1:-1]) == Decimal(row[-1])
    assert await page.get_by_test_id("explorer-group-chart").get_attribute("data-series") == str(len(columns))

    # the CSV download is the table
    async with page.expect_download() as waiting:
        await page.get_by_test_id("explorer-groups-export").click()
    download = await waiting.value
    assert download.suggested_filename == f"costs-by-account-per-daily-{start}-to-{_day_before(end)}.csv"
    lines = list(csv.reader(io.StringIO((await download.path()).read_text(encoding="utf-8"))))
    labels = [s["name"] or s["key"] for s in body["group_series"]]
    assert lines[0] == ["period_start", *labels, f"total_{body['currency']}"]
    assert lines[1:] == table

    # the link restores the explorer: a fresh page opened on it shows the same query
    link = page.url
    fresh = await page.context.new_page()
    await fresh.goto(link)
    if await fresh.get_by_test_id("login-email").count():
        await fresh.get_by_test_id("login-email").fill(stack.email)
        await fresh.get_by_test_id("login-password").fill(stack.password)
        await fresh.get_by_test_id("login-submit").click()
    await expect(fresh.get_by_test_id("explorer-result")).to_have_attribute("data-group-by", "account")
    await expect(fresh.get_by_test_id("explorer-group-total")).to_have_attribute(
        "data-value", f"{expected_total:.2f}"
    )
    await expect(fresh.get_by_test_id("explorer-services")).to_have_attribute("data-selected", service)
    await fresh.close()
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []
