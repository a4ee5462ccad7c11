"""Safer forms and polish (#20 P) in a real Chromium against ``cloudoptima up``'s demo data: the sign-in
error is a sentence, "Skip to content" is the first focusable element, the chat's question box has the focus
each time the panel opens, a new policy starts disabled with a tag action and an enabled destructive policy
with no conditions needs the explicit confirmation, a budget's accounts are picked by name and a taken budget
name is refused at the name field, the explorer marks rollup tag keys with no data in the period as the API's
data says, chart legends show a day (not "Time: --"), and the top bar keeps one row at 360 px."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack
from tests.browser.test_console_layout import TOP_BAR_ROWS_JS

pytestmark = pytest.mark.e2e


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


def _last_month() -> tuple[str, str]:
    first = datetime.now(UTC).date().replace(day=1)
    previous = (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )
    return previous.isoformat(), first.isoformat()


async def _sign_in(page: Page, stack: Stack) -> None:
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("app-shell")).to_be_visible()


@pytest.mark.usefixtures("console_built")
async def test_safer_forms_and_keyboard_polish(
    page: Page, page_log: PageLog, stack: Stack, tmp_path: Path
) -> None:
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password + "-wrong")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("Email or password is incorrect")
    await _sign_in(page, stack)

    # "Skip to content" is the first Tab stop and moves the focus to the content.
    await page.locator("body").focus()
    await page.keyboard.press("Tab")
    await expect(page.get_by_test_id("skip-link")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main#content")).to_be_focused()

    # The chat's question box has the focus on every opening, not only the first.
    for _ in range(2):
        await page.get_by_test_id("chat-toggle").click()
        await expect(page.get_by_test_id("chat-input")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(page.get_by_test_id("chat-toggle")).to_be_focused()

    # A new policy: disabled, a tag action; enabled + stop + no conditions needs the confirmation.
    await page.get_by_test_id("nav-policies").click()
    await page.get_by_test_id("policy-new").click()
    await expect(page.get_by_test_id("policy-form")).to_have_attribute("data-mode", "create")
    await expect(page.get_by_test_id("policy-form-enabled")).not_to_be_checked()
    await expect(page.get_by_test_id("policy-form-action-type-0")).to_have_value("tag")
    await expect(page.get_by_test_id("policy-form-confirm-every-resource")).to_have_count(0)
    await page.get_by_test_id("policy-form-name").fill("Stop everything (never saved)")
    await page.get_by_test_id("policy-form-enabled").check()
    await page.get_by_test_id("policy-form-action-type-0").select_option("stop")
    await page.get_by_test_id("policy-form-action-config-0").fill("")
    await expect(page.get_by_test_id("policy-form-confirm-every-resource")).not_to_be_checked()
    await page.get_by_test_id("policy-form-submit").click()
    await expect(page.get_by_test_id("policy-form-error-conditions")).to_contain_text(
        "every resource in scope"
    )
    await expect(page.get_by_test_id("policy-form")).to_be_visible()  # nothing was sent
    await page.get_by_test_id("policy-form-cancel").click()

    # Budgets: accounts picked by name; a taken name is refused at the name field.
    accounts = (await stack.api("/v1/cloud-accounts")).json()["accounts"]
    assert accounts, "the demo has cloud accounts"
    taken = f"Polish check {uuid.uuid4().hex[:6]}"
    today = datetime.now(UTC).date().replace(day=1)
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
    ) as admin:
        made = await admin.post(
            "/v1/budgets",
            json={
                "name": taken,
                "amount": 100,
                "start_date": str(today),
                "end_date": str(today.replace(year=today.year + 1)),
                "scope": {"type": "account", "values": []},
            },
        )
        assert made.status_code == 201, made.text
        try:
            await page.get_by_test_id("nav-budgets").click()
            await page.get_by_test_id("budget-new").click()
            await page.get_by_test_id("budget-name").fill(f" {taken.upper()} ")
            await page.get_by_test_id("budget-amount").fill("1000")
            await page.get_by_test_id("budget-scope-type").select_option("account")
            picker = page.get_by_test_id("budget-accounts")
            await picker.get_by_test_id("budget-accounts-toggle").click()
            first = accounts[0]
            label = first["account_name"] or first["account_id"]
            await picker.get_by_test_id("budget-accounts-search").fill(label)
            await picker.get_by_role("checkbox", name=label).first.check()
            await expect(picker).to_have_attribute("data-selected", first["account_id"])
            await expect(picker.get_by_test_id("budget-accounts-toggle")).to_have_text("1 selected")
            await page.screenshot(path=str(tmp_path / "budget-account-picker.png"))
            await picker.get_by_test_id("budget-accounts-done").click()
            await page.get_by_test_id("budget-save").click()
            await expect(page.get_by_test_id("budget-error-name")).to_contain_text("already exists")
            await page.get_by_test_id("budget-cancel").click()
            listed = (await admin.get("/v1/budgets")).json()["budgets"]
            assert [b["name"] for b in listed if b["name"].lower() == taken.lower()] == [taken]
        finally:
            assert (await admin.delete(f"/v1/budgets/{made.json()['budget_id']}")).status_code == 200
    assert page_log.errors == []
    # Chromium logs each refused request (the 401 of the wrong password, the 409 of the taken name).
    assert all("401" in m or "409" in m for m in page_log.console_errors()), page_log.console_errors()


@pytest.mark.usefixtures("console_built")
async def test_tag_keys_legends_and_phone_top_bar(
    page: Page, page_log: PageLog, stack: Stack, tmp_path: Path
) -> None:
    start, end = _last_month()
    await page.goto(stack.base_url + f"/costs?start={start}&end={end}")
    await _sign_in(page, stack)
    org = (await stack.api("/v1/organization")).json()
    keys = org["settings"].get("rollup_tag_keys") or []
    assert keys, "the demo organisation has rollup tag keys"
    for key in keys:
        answer = await stack.api(
            "/v1/costs/overview", start_date=start, end_date=end, group_by="tag", tag_key=key
        )
        assert answer.status_code == 200, answer.text
        has = any(b["dimension"] not in ("(untagged)", "(none)", "") for b in answer.json()["breakdown"])
        option = page.locator(f'[data-testid="explorer-tag-key"][data-key="{key}"]')
        await expect(option).to_have_attribute("data-has-data", "true" if has else "false")
        if not has:
            await expect(option).to_have_text(f"Tag: {key} (no data in period)")
    legend = page.locator(".u-legend").first
    await expect(legend).to_contain_text("Day")
    await expect(legend).not_to_contain_text("Time")

    await page.set_viewport_size({"width": 360, "height": 740})
    await page.get_by_test_id("nav-toggle").click()
    await page.get_by_test_id("nav-overview").click()
    await expect(page.get_by_test_id("logout")).to_be_visible()
    assert await page.evaluate(TOP_BAR_ROWS_JS) == 1
    await page.screenshot(path=str(tmp_path / "top-bar-360.png"))
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert page_log.errors == [] and page_log.console_errors() == []
