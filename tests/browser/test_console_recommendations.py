"""The console's Recommendations screen in a real Chromium against the whole platform.

- The demo admin opens a recommendation from ``/recommendations``, runs its dry run, sees the result, and
  requests the remediation: the execution the screen names is pending approval in the API.
- A viewer (invited and signed up through the API) sees the same detail page without apply or dismiss.
- The admin connects a ticket tracker (a strict local GitHub fake) and creates a ticket from a detail page.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack
from tests.gateway.fake_trackers import GITHUB_TOKEN, REPO, FakeTrackers

pytestmark = pytest.mark.e2e

SETTLE_MS = 90_000


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _free_recommendation(stack: Stack) -> tuple[dict[str, Any], int]:
    """An active low-risk (else medium-risk) recommendation with no execution yet, once the first analysis,
    which ``cloudoptima up`` starts in the background, has produced some; and how many active ones of its
    risk there are. The first in priority order is left alone (the approvals screen's test requests it)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        for risk in ("low", "medium"):
            params = {"status": "active", "risk_level": risk}
            listed = await stack.api("/v1/recommendations", **params, sort_by="savings", limit="100")
            by_priority = await stack.api("/v1/recommendations", **params, sort_by="priority", limit="1")
            assert listed.status_code == by_priority.status_code == 200, listed.text
            taken = {r["id"] for r in by_priority.json()["recommendations"]}
            for row in reversed(listed.json()["recommendations"]):
                executions = await stack.api("/v1/executions", recommendation_id=row["id"])
                assert executions.status_code == 200, executions.text
                if row["id"] not in taken and executions.json()["total"] == 0:
                    return row, int(listed.json()["total_matching"])
        await asyncio.sleep(2)
    raise AssertionError("the first analysis produced no free low- or medium-risk recommendation")


async def _sign_in(page: Page, stack: Stack, path: str, email: str, password: str) -> None:
    await page.goto(stack.base_url + path)
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()


@pytest.mark.usefixtures("console_built")
async def test_admin_dry_runs_then_requests_a_recommendation(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    chosen, low_total = await _free_recommendation(stack)
    await _sign_in(page, stack, "/recommendations", stack.email, stack.password)

    await expect(page.get_by_test_id("rec-count")).to_be_visible()
    await page.get_by_test_id("rec-filter-risk").select_option(chosen["risk_level"])
    await expect(page.get_by_test_id("rec-count")).to_have_attribute("data-total", str(low_total))
    row = page.locator(f'[data-testid="rec-row"][data-id="{chosen["id"]}"]')
    while not await row.count():
        # the chosen one is further down the savings order: page on with "load more"
        await expect(page.get_by_test_id("rec-count")).to_be_visible()
        more = page.get_by_test_id("rec-load-more")
        assert await more.count(), f"{chosen['id']} not listed"
        shown = await page.get_by_test_id("rec-row").count()
        await more.click()
        await expect(page.get_by_test_id("rec-row")).not_to_have_count(shown)
    await expect(row.get_by_test_id("rec-risk")).to_have_text(chosen["risk_level"])
    if chosen["currency"] is not None and chosen["estimated_savings_monthly"] is not None:
        await expect(row.get_by_test_id("rec-savings")).to_contain_text(
            "$" if chosen["currency"] == "USD" else ""
        )
    await row.get_by_test_id("rec-link").click()

    await expect(page.get_by_test_id("rec-title")).to_have_text(chosen["title"])
    await expect(page.get_by_test_id("rec-narrative-text")).not_to_be_empty()
    await expect(page.get_by_test_id("rec-impact-cost")).to_be_visible()
    await page.get_by_test_id("rec-dry-run").click()
    result = page.get_by_test_id("rec-dry-run-result")
    await expect(result).to_have_attribute("data-state", "dry_run", timeout=SETTLE_MS)
    await expect(result).to_have_attribute("data-valid", "true")

    await page.get_by_test_id("rec-confirm-apply").click()
    execution = page.get_by_test_id("rec-execution")
    await expect(execution).to_have_attribute("data-state", "pending_approval", timeout=SETTLE_MS)
    await expect(page.get_by_test_id("rec-approvals-link")).to_have_attribute("href", "/approvals")
    execution_id = await execution.get_attribute("data-id")
    assert execution_id

    answer = await stack.api(f"/v1/executions/{execution_id}")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["state"] == "pending_approval"
    assert found["recommendation_id"] == chosen["id"]
    assert found["dry_run"] is False
    # The requester is told someone else approves it, and the plan's risk (which decides whose role may).
    waits = page.get_by_test_id("rec-execution-waits")
    await expect(waits).to_contain_text("Another person must approve it")
    await expect(waits).to_contain_text(f"the plan's risk is {found['risk_level']}")
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []


@pytest.mark.usefixtures("console_built")
async def test_a_viewer_sees_no_apply_button(page: Page, page_log: PageLog, stack: Stack) -> None:
    email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    password = "viewer-pass-" + uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        invited = await client.post(
            "/v1/auth/invitations",
            json={"email": email, "role": "viewer"},
            headers={"X-API-Key": stack.api_key},
        )
        assert invited.status_code == 201, invited.text
        accepted = await client.post(
            "/v1/auth/invitations/accept",
            json={"token": invited.json()["invitation_token"], "password": password},
        )
        assert accepted.status_code == 200, accepted.text
    rec_id = (await _free_recommendation(stack))[0]["id"]

    await _sign_in(page, stack, f"/recommendations/{rec_id}", email, password)
    await expect(page.get_by_test_id("current-role")).to_have_text("viewer")
    await expect(page.get_by_test_id("rec-title")).to_be_visible()
    await expect(page.get_by_test_id("rec-read-only")).to_be_visible()
    await expect(page.get_by_test_id("rec-dry-run")).to_have_count(0)
    await expect(page.get_by_test_id("rec-dismiss")).to_have_count(0)
    # Reports need read:reports, which a viewer lacks: the navigation does not offer them.
    await expect(page.get_by_test_id("nav-recommendations")).to_be_visible()
    await expect(page.get_by_test_id("nav-reports")).to_have_count(0)
    assert page_log.errors == [] and page_log.console_errors() == []


async def _go(page: Page, path: str) -> None:
    """Open ``path`` inside the running console (its router), keeping the in-memory session."""
    await page.evaluate(
        "path => { history.pushState(null, '', path); dispatchEvent(new Event('cloudoptima:navigate')); }",
        path,
    )


@pytest.mark.usefixtures("console_built")
async def test_admin_connects_a_tracker_then_creates_a_ticket(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    """Ticket trackers (#22): the 422 lands at its field; the webhook secret is shown once, and again when an
    edit rotates it; "Create ticket" on a recommendation opens a GitHub issue (strict local fake, token checked)
    and the detail shows its link."""
    chosen = (await _free_recommendation(stack))[0]
    name = f"infra-{uuid.uuid4().hex[:6]}"
    with FakeTrackers() as fake:
        await _sign_in(page, stack, "/trackers", stack.email, stack.password)
        await expect(page.get_by_test_id("tracker-form")).to_be_visible()
        await page.get_by_test_id("tracker-form-name").fill(name)
        await page.get_by_test_id("tracker-form-base_url").fill(fake.url)
        await page.get_by_test_id("tracker-form-project").fill("no-slash")
        await page.get_by_test_id("tracker-form-token").fill(GITHUB_TOKEN)
        await page.get_by_test_id("tracker-form-submit").click()
        await expect(page.get_by_test_id("tracker-form-error-project")).to_contain_text("owner/repo")
        await page.get_by_test_id("tracker-form-project").fill(REPO)
        await page.get_by_test_id("tracker-form-submit").click()
        await expect(page.get_by_test_id("tracker-created-secret")).not_to_be_empty()
        await expect(page.get_by_test_id("tracker-created-url")).to_contain_text("/webhook")
        await expect(page.locator(f'[data-testid="tracker-row"][data-name="{name}"]')).to_be_visible()
        listed = (await stack.api("/v1/ticket-trackers")).json()["trackers"]
        [tracker] = [t for t in listed if t["name"] == name]
        assert "webhook_secret" not in tracker and tracker["webhook_secret_set"] is True
        first_secret = await page.get_by_test_id("tracker-created-secret").text_content()
        row = page.locator(f'[data-testid="tracker-row"][data-name="{name}"]')
        await row.get_by_test_id("tracker-edit-open").click()  # rotate the webhook secret: shown once again
        await page.get_by_test_id("tracker-edit-rotate").check()
        await page.get_by_test_id("tracker-edit-submit").click()
        await expect(page.get_by_test_id("tracker-edit")).to_have_count(0)
        await expect(page.get_by_test_id("tracker-created-secret")).not_to_have_text(first_secret or "")

        await _go(page, f"/recommendations/{chosen['id']}")
        await expect(page.get_by_test_id("rec-ticket-none")).to_be_visible()
        await page.get_by_test_id("rec-ticket-tracker").select_option(tracker["id"])
        await page.get_by_test_id("rec-ticket-create").click()
        link = page.get_by_test_id("rec-ticket-url")
        await expect(link).to_have_text("#1")
        issue = fake.state.github[1]
        await expect(link).to_have_attribute("href", issue["html_url"])
        await expect(page.get_by_test_id("rec-ticket-state")).to_have_text("Open")
        assert issue["title"] == f"[CloudOptima] {chosen['title']}"
    refused = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert page_log.errors == [] and page_log.console_errors() == [refused]  # the one deliberate 422
    assert page_log.foreign_requests == []
