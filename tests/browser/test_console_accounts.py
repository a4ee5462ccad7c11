"""The Cloud accounts screen in a real Chromium against ``cloudoptima up``'s demo: the accounts listed are the
API's (names, status, last sync — set by the sandbox load, never "never"), an AWS connection with a bad role ARN
shows the API's own 422 message next to the field and creates nothing, and "Sync now" on a sandbox account
shows the sync running, then the API's new ``last_sync``."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT_MS = 120_000


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _sign_in(page: Page, stack: Stack, path: str) -> None:
    await page.goto(stack.base_url + path)
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()


async def _accounts(stack: Stack) -> list[dict[str, object]]:
    answer = await stack.api("/v1/cloud-accounts")
    assert answer.status_code == 200, answer.text
    accounts: list[dict[str, object]] = answer.json()["accounts"]
    return accounts


@pytest.mark.usefixtures("console_built")
async def test_accounts_list_connect_errors_and_sync_now(page: Page, page_log: PageLog, stack: Stack) -> None:
    before = await _accounts(stack)
    assert before, "the demo has sandbox accounts"
    assert all(a["last_sync"] is not None for a in before), "the sandbox load sets last_sync"
    await _sign_in(page, stack, "/accounts")

    rows = page.get_by_test_id("accounts-row")
    await expect(rows).to_have_count(len(before))
    for account in before:
        row = page.locator(f'[data-testid="accounts-row"][data-id="{account["id"]}"]')
        await expect(row).to_have_attribute("data-status", str(account["status"]))
        await expect(row).to_have_attribute("data-last-sync", str(account["last_sync"]))
        await expect(row.get_by_test_id("accounts-name")).to_have_text(
            str(account["account_name"] or account["account_id"])
        )
        await expect(row.get_by_test_id("accounts-status")).to_have_text(str(account["status"]))
        await expect(row.get_by_test_id("accounts-last-sync")).not_to_have_text("never")

    # A malformed role ARN: the API's 422 message for role_arn is shown next to that field.
    await page.get_by_test_id("accounts-provider-aws").click()
    await page.get_by_test_id("accounts-field-role_arn").fill("arn:aws:iam::12345:role/too-short-account")
    await page.get_by_test_id("accounts-field-external_id").fill("demo-external-id")
    async with page.expect_response(
        lambda r: r.url.endswith("/v1/cloud-accounts/aws") and r.request.method == "POST"
    ) as refused:
        await page.get_by_test_id("accounts-connect-submit").click()
    answer = await refused.value
    assert answer.status == 422
    messages = {tuple(d["loc"]): d["msg"] for d in (await answer.json())["detail"]}
    assert set(messages) == {("body", "role_arn")}, messages
    await expect(page.get_by_test_id("accounts-error-role_arn")).to_have_text(messages[("body", "role_arn")])
    await expect(page.get_by_test_id("accounts-field-role_arn")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("accounts-error-external_id")).to_have_count(0)
    assert len(await _accounts(stack)) == len(before), "a refused connection created no account"

    # Sync now on the first sandbox account: "syncing" while it runs, then the API's new last sync.
    target = before[0]
    row = page.locator(f'[data-testid="accounts-row"][data-id="{target["id"]}"]')
    await row.get_by_test_id("accounts-sync").click()
    await expect(row.get_by_test_id("accounts-status")).to_contain_text("syncing")
    await expect(row.get_by_test_id("accounts-sync")).to_be_disabled()
    await expect(row).not_to_have_attribute(
        "data-last-sync", str(target["last_sync"]), timeout=SYNC_TIMEOUT_MS
    )
    await expect(row.get_by_test_id("accounts-status")).to_have_text("active")
    after = {str(a["id"]): a for a in await _accounts(stack)}
    assert str(after[str(target["id"])]["last_sync"]) > str(target["last_sync"])
    await expect(row).to_have_attribute("data-last-sync", str(after[str(target["id"])]["last_sync"]))
    assert page_log.errors == [] and page_log.foreign_requests == []
