"""The #21 governance screens in a real Chromium against the demo stack.

- Tags: the policy editor shows the API's 422 at the field it names, saves a required key through the form, and
  the coverage per key shown (spend % and resource %) equals ``GET /v1/tags/coverage`` for the period shown;
  the resources to fix list the API's total. The organisation's tag policy is put back afterwards.
- Data health: the reconciliation rows of the default month (the last closed one) equal ``GET
  /v1/data/reconciliation`` (order, our total, provider total, status); an export schedule created through the
  Exports form is listed (deleted through the API afterwards); a one-off export started with "Run now" is shown
  queued, then succeeded, with the files and rows of its manifest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e
SCHEDULE_NAME = "Governance test export"
MISSING_KEY = "cost_center"  # a key the demo estate's resources lack (some or all)
SLOW_MS = 20_000
RUN_MS = 90_000  # queued, picked up by the worker and written on a machine shared with a test run  # a save answered, then a re-read, on a machine shared with a test run


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


@pytest_asyncio.fixture
async def admin(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=120, headers={"X-API-Key": stack.api_key}
    ) as client:
        yield client


def _js_number(value: float) -> str:
    """How JavaScript's String() writes a JSON number (100.0 → "100")."""
    return str(int(value)) if value == int(value) else repr(value)


async def _sign_in(page: Page, stack: Stack, path: str) -> None:
    await page.goto(stack.base_url + path)
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()


@pytest.mark.usefixtures("console_built")
async def test_tag_policy_edit_and_coverage_equal_the_api(
    page: Page, page_log: PageLog, stack: Stack, admin: httpx.AsyncClient
) -> None:
    original = (await admin.get("/v1/organization/tag-policy")).json()
    try:
        await _sign_in(page, stack, "/tags")
        await page.get_by_test_id("tag-policy-edit").click()
        form = page.get_by_test_id("tag-policy-form")
        await form.get_by_test_id("tag-policy-add").click()
        row = form.get_by_test_id("tag-policy-form-row").last
        await row.get_by_test_id("tag-policy-input-key").fill("aws:team")
        await form.get_by_test_id("tag-policy-save").click()
        await expect(row.get_by_test_id("tag-policy-error-key")).to_contain_text("aws:")
        await row.get_by_test_id("tag-policy-input-key").fill("team")
        await row.get_by_test_id("tag-policy-input-aliases").fill("Team, owner_team")
        await form.get_by_test_id("tag-policy-add").click()
        await (
            form.get_by_test_id("tag-policy-form-row")
            .last.get_by_test_id("tag-policy-input-key")
            .fill(MISSING_KEY)
        )
        await form.get_by_test_id("tag-policy-save").click()
        await expect(page.locator('[data-testid="tag-policy-row"][data-key="team"]')).to_have_count(
            1, timeout=SLOW_MS
        )

        stored = (await admin.get("/v1/organization/tag-policy")).json()
        team = next(r for r in stored["required"] if r["key"] == "team")
        assert team["aliases"] == ["Team", "owner_team"]

        period = page.get_by_test_id("tag-period")
        start, end = await period.get_attribute("data-start"), await period.get_attribute("data-end")
        assert start and end
        answer = await admin.get("/v1/tags/coverage", params={"start": start, "end": end})
        assert answer.status_code == 200, answer.text
        coverage = answer.json()
        keys = page.get_by_test_id("tag-coverage-key")
        await expect(keys).to_have_count(len(coverage["keys"]), timeout=SLOW_MS)
        for index, key in enumerate(coverage["keys"]):
            shown = keys.nth(index)
            await expect(shown).to_have_attribute("data-key", key["key"])
            await expect(shown).to_have_attribute("data-spend-percent", str(key["spend_percent"]))
            await expect(shown).to_have_attribute("data-resource-percent", str(key["resource_percent"]))
        await expect(page.get_by_test_id("tag-untagged-spend")).to_have_attribute(
            "data-value", _js_number(coverage["untagged_spend"])
        )

        await page.get_by_test_id("tag-fix-key").select_option(MISSING_KEY)
        untagged = (
            await admin.get(
                "/v1/tags/untagged-resources",
                params={"key": MISSING_KEY, "start": start, "end": end, "limit": 20},
            )
        ).json()
        by_account = (
            await admin.get(
                "/v1/tags/untagged-spend",
                params={"key": MISSING_KEY, "start": start, "end": end, "group_by": "account"},
            )
        ).json()
        await expect(page.get_by_test_id("tag-key-spend")).to_have_attribute(
            "data-value", _js_number(by_account["untagged_spend"]), timeout=SLOW_MS
        )
        if untagged["total"] > 0:
            await expect(page.get_by_test_id("tag-fix-table")).to_have_attribute(
                "data-total", str(untagged["total"])
            )
            await expect(page.get_by_test_id("tag-fix-row")).to_have_count(len(untagged["items"]))
        else:
            await expect(page.get_by_test_id("tag-fix-empty")).to_be_visible()
        assert not page_log.errors
    finally:
        restored = await admin.put("/v1/organization/tag-policy", json=original)
        assert restored.status_code == 200, restored.text


@pytest.mark.usefixtures("console_built")
async def test_reconciliation_rows_equal_the_api_and_an_export_schedule_is_created(
    page: Page, page_log: PageLog, stack: Stack, admin: httpx.AsyncClient
) -> None:
    await _sign_in(page, stack, "/data")
    month = await page.get_by_test_id("reconciliation-month").input_value()
    answer = await admin.get("/v1/data/reconciliation", params={"month": month})
    assert answer.status_code == 200, answer.text
    accounts = answer.json()["accounts"]
    assert accounts, "the demo estate has costs in the last closed month"
    table = page.get_by_test_id("reconciliation-table")
    await expect(table).to_have_attribute("data-month", month)
    rows = table.get_by_test_id("reconciliation-row")
    await expect(rows).to_have_count(len(accounts))
    for index, expected in enumerate(accounts):
        row = rows.nth(index)
        await expect(row).to_have_attribute("data-status", expected["status"])
        await expect(row).to_have_attribute("data-our-total", expected["our_total"])
        await expect(row).to_have_attribute("data-provider-total", expected["provider_total"] or "")
        await expect(row.get_by_test_id("reconciliation-our")).to_have_attribute(
            "title", expected["our_total"]
        )
    await expect(page.get_by_test_id("freshness-row").first).to_be_visible()

    await page.get_by_test_id("nav-exports").click()
    await page.get_by_test_id("export-new").click()
    await page.get_by_test_id("export-form-name").fill(SCHEDULE_NAME)
    await page.get_by_test_id("export-form-format").select_option("csv")
    await page.get_by_test_id("export-form-submit").click()
    created = page.locator(f'[data-testid="export-schedule"][data-name="{SCHEDULE_NAME}"]')
    try:
        await expect(created).to_have_count(1)
        await expect(created.get_by_test_id("export-schedule-cadence")).to_have_text(
            "monthly on day 1 at 06:00 UTC"
        )
    finally:
        listed = (await admin.get("/v1/exports/schedules")).json()["items"]
        for item in listed:
            if item["name"] == SCHEDULE_NAME:
                deleted = await admin.delete(f"/v1/exports/schedules/{item['schedule_id']}")
                assert deleted.status_code == 204, deleted.text

    # A one-off export: answered 202 queued, the runs table is read again until the run has settled.
    await page.get_by_test_id("export-new").click()
    await page.get_by_test_id("export-form-dataset").select_option("daily")
    await page.get_by_test_id("export-form-format").select_option("csv")
    await page.get_by_test_id("export-form-path").fill("governance-test")
    await page.get_by_test_id("export-form-run").click()
    run = page.get_by_test_id("export-run").first
    await expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_MS)
    run_id = await run.get_attribute("data-id")
    recorded = (await admin.get(f"/v1/exports/runs/{run_id}")).json()
    assert recorded["status"] == "succeeded", recorded
    await expect(run.get_by_test_id("export-run-files")).to_have_text(str(len(recorded["manifest"]["files"])))
    await expect(run.get_by_test_id("export-run-rows")).to_have_text(str(recorded["manifest"]["rows"]))
    assert not page_log.errors
