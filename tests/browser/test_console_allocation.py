"""The console's Allocation screen in a real Chromium against ``cloudoptima up``'s demo organisation.

The demo admin adds a dimension through the form, gives it one rule matching a tag value of the demo estate
(the fixed-percentage check of a shared-cost rule refuses 60 + 30 first, at its field, without asking the API),
saves it as version 1 (its re-allocation starts on the demo's worker; the test waits on the API's
``active_version``, not on sleeps), sees the status turn to allocated, then the Showback tab for the last 30
days: every row's cost, shared part and share equal ``GET /v1/costs/by-allocation`` for the same period cell by
cell, ``unallocated`` is present and marked, the total is the API's total, the link carries the state and the
CSV download is exactly the table."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e
REALLOCATION_TIMEOUT_S = 120


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _tagged_value(stack: Stack, start: str, end: str) -> tuple[str, str]:
    """A rollup tag key of the demo and one of its values with spend in ``[start, end)``."""
    org = await stack.api("/v1/organization")
    for key in org.json()["settings"]["rollup_tag_keys"]:
        answer = await stack.api(
            "/v1/costs/overview", start_date=start, end_date=end, group_by="tag", tag_key=key
        )
        assert answer.status_code == 200, answer.text
        for item in answer.json()["breakdown"]:
            if not item["dimension"].startswith("(") and Decimal(str(item["cost"])) > 0:
                return key, item["dimension"]
    raise AssertionError("the demo estate has no tagged spend in the last 30 days")


async def _wait_allocated(stack: Stack, dimension_id: str, version: int) -> None:
    """Poll the API's status until ``version`` is the active one (the worker's re-allocation finished)."""
    deadline = time.monotonic() + REALLOCATION_TIMEOUT_S
    while time.monotonic() < deadline:
        answer = await stack.api(f"/v1/allocation/dimensions/{dimension_id}")
        assert answer.status_code == 200, answer.text
        if answer.json()["active_version"] == version:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"version {version} of {dimension_id} was not allocated in {REALLOCATION_TIMEOUT_S} s"
    )


@pytest.mark.usefixtures("console_built")
async def test_rule_saved_in_the_form_shows_the_apis_showback(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    today = datetime.now(UTC).date()
    start, end = (today - timedelta(days=30)).isoformat(), today.isoformat()  # the "Last 30 days" preset
    key, value = await _tagged_value(stack, start, end)
    name = f"w1_team_{uuid.uuid4().hex[:8]}"

    await page.goto(stack.base_url + "/allocation")  # signed in, the console opens the page asked for
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("nav-allocation")).to_have_attribute("aria-current", "page")
    await page.get_by_test_id("alloc-new-name").fill(name)
    await page.get_by_test_id("alloc-create").click()
    editor = page.get_by_test_id("alloc-editor")
    await expect(editor).to_have_attribute("data-name", name)
    await expect(page.get_by_test_id("alloc-status")).to_have_attribute("data-state", "no_rules")
    dimension_id = page.url.rsplit("/", 1)[1]

    # One rule: the tag value → a fixed value.
    await page.get_by_test_id("alloc-add-rule").click()
    rule = page.get_by_test_id("alloc-rule").first
    await rule.get_by_test_id("alloc-rule-value").fill("tagged")
    await rule.get_by_test_id("alloc-add-tag").click()
    await rule.get_by_test_id("alloc-tag-key").fill(key)
    await rule.get_by_test_id("alloc-tag-values").fill(value)

    # A fixed split must sum to 100: the form says so at the field and sends nothing.
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    await page.get_by_test_id("alloc-add-shared").click()
    shared = page.get_by_test_id("alloc-shared").first
    await shared.get_by_test_id("alloc-shared-name").fill("support")
    await shared.get_by_test_id("alloc-shared-method").select_option("fixed")
    for target, percent in (("tagged", "60"), ("other", "30")):
        await shared.get_by_test_id("alloc-add-target").click()
        await shared.get_by_test_id("alloc-target-value").last.fill(target)
        await shared.get_by_test_id("alloc-target-percent").last.fill(percent)
    await expect(shared.get_by_test_id("alloc-percent-sum")).to_have_attribute("data-value", "90")
    await page.get_by_test_id("alloc-save").click()
    error = shared.locator('[data-testid="alloc-field-error"][data-field="percentages"]')
    await expect(error).to_contain_text("sum to exactly 100")
    assert puts == []
    await shared.get_by_test_id("alloc-remove").click()

    await page.get_by_test_id("alloc-save").click()
    saved = page.get_by_test_id("alloc-saved")
    await expect(saved).to_have_attribute("data-version", "1")
    await expect(saved).to_have_attribute("data-reallocation", "started")
    stored = await stack.api(f"/v1/allocation/dimensions/{dimension_id}/rules")
    assert stored.json()["rules"]["rules"] == [
        {"value": "tagged", "value_from_tag": None, "match": _match(key, value)}
    ], stored.text
    await _wait_allocated(stack, dimension_id, 1)
    await expect(page.get_by_test_id("alloc-status")).to_have_attribute("data-state", "allocated")

    # Showback over the last 30 days: the API's numbers, cell by cell.
    await page.get_by_test_id("alloc-editor-showback").click()
    await page.get_by_test_id("showback-preset-last_30").click()
    result = page.get_by_test_id("showback-result")
    await expect(result).to_have_attribute("data-start", start)
    await expect(result).to_have_attribute("data-version", "1")
    await expect(page).to_have_url(re.compile(rf"/allocation/showback\?dimension={name}&preset=last_30$"))
    answer = await stack.api("/v1/costs/by-allocation", dimension=name, start_date=start, end_date=end)
    assert answer.status_code == 200, answer.text
    currencies = answer.json()["currencies"]
    assert currencies, "the demo estate has spend in the last 30 days"
    shown_csv: list[list[str]] = []
    for currency in currencies:
        table = page.locator(f'[data-testid="showback-table"][data-currency="{currency["currency"]}"]')
        rows = table.get_by_test_id("showback-row")
        names = [str(n) for n in await rows.evaluate_all("rs => rs.map(r => r.dataset.name)")]
        api_values = {v["value"]: v for v in currency["values"]}
        assert "tagged" in api_values and Decimal(str(api_values["tagged"]["cost"])) > 0, currency
        assert set(names) == set(api_values) | {"unallocated"}, (names, currency)
        for row_name in names:
            row = table.locator(f'[data-testid="showback-row"][data-name="{row_name}"]')
            expected = api_values.get(row_name, {"cost": 0, "shared_cost": 0, "percentage": 0})
            for cell, field in (
                ("showback-cost", "cost"),
                ("showback-shared", "shared_cost"),
                ("showback-share", "percentage"),
            ):
                shown = Decimal(str(await row.get_by_test_id(cell).get_attribute("data-value")))
                assert shown == Decimal(str(expected[field])), (row_name, field, shown, expected)
            shown_csv.append(
                [
                    row_name,
                    currency["currency"],
                    str(await row.get_by_test_id("showback-cost").get_attribute("data-value")),
                ]
            )
        unallocated = table.locator('[data-testid="showback-row"][data-name="unallocated"]')
        await expect(unallocated).to_have_attribute("data-unallocated", "true")
        await expect(unallocated.get_by_test_id("showback-unallocated-badge")).to_be_visible()
        total = table.get_by_test_id("showback-total")
        assert Decimal(str(await total.get_attribute("data-value"))) == Decimal(str(currency["total_cost"]))
        assert Decimal(str(await total.get_attribute("data-rows-sum"))) == Decimal(
            str(currency["total_cost"])
        )
    await expect(page.get_by_test_id("showback-unbalanced")).to_have_count(0)

    async with page.expect_download() as waiting:
        await page.get_by_test_id("showback-export").click()
    download = await waiting.value
    last_day = (today - timedelta(days=1)).isoformat()
    assert download.suggested_filename == f"showback-{name}-{start}-to-{last_day}.csv"
    path = await download.path()
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert lines[0] == [name, "currency", "cost", "shared_cost", "share_percent"]
    assert [line[:3] for line in lines[1:] if line[0] != "total"] == shown_csv
    assert page_log.errors == [] and page_log.foreign_requests == []


def _match(key: str, value: str) -> dict[str, object]:
    """The stored match of the rule the test writes (the API fills in the empty conditions)."""
    return {
        "accounts": [],
        "providers": [],
        "services": [],
        "regions": [],
        "tags": [{"key": key, "values": [value]}],
        "resource_id_patterns": [],
        "resource_types": [],
    }
