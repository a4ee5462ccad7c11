"""The console's Approvals screen in a real Chromium: the demo admin requests a low-risk remediation through
the API, a second user (an engineer invited through the API: separation of duties keeps the requester from
approving) signs in, finds it in Approvals, approves it with a comment and watches the execution reach its
final state on screen without a reload; the API agrees on the state, the decider and the comment."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

APPROVER_EMAIL = "approver@cloudoptima-demo.com"
APPROVER_PASSWORD = "Approver-Passw0rd!"
COMMENT = "Checked the plan and the dry run: go"


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


async def _lowest_risk_recommendation(client: httpx.AsyncClient) -> dict[str, str]:
    """The demo's first active low-risk recommendation (else a medium-risk one), once the first analysis,
    which ``cloudoptima up`` starts in the background, has produced recommendations."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        for risk in ("low", "medium"):
            listed = await client.get("/v1/recommendations", params={"risk_level": risk, "status": "active"})
            assert listed.status_code == 200, listed.text
            found = listed.json()["recommendations"]
            if found:
                return {"id": str(found[0]["id"]), "risk": risk}
        await asyncio.sleep(2)
    raise AssertionError("the first analysis produced no low- or medium-risk recommendation")


async def _request_remediation(client: httpx.AsyncClient, recommendation_id: str) -> str:
    """Apply the recommendation as the demo admin; wait until the remediation awaits approval."""
    applied = await client.post(
        f"/v1/recommendations/{recommendation_id}/apply", json={"approval_required": True}
    )
    assert applied.status_code == 200, applied.text
    execution_id = str(applied.json()["execution_id"])
    deadline = time.monotonic() + 60
    state = ""
    while time.monotonic() < deadline:
        answer = await client.get(f"/v1/executions/{execution_id}")
        if answer.status_code == 200:
            state = answer.json()["state"]
            if state == "pending_approval":
                return execution_id
            assert state in {"queued", "planning", "planned"}, answer.text
        await asyncio.sleep(0.5)
    raise AssertionError(f"the remediation never waited for approval (last state {state!r})")


async def _invite_approver(client: httpx.AsyncClient, role: str) -> None:
    invited = await client.post("/v1/auth/invitations", json={"email": APPROVER_EMAIL, "role": role})
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        "/v1/auth/invitations/accept",
        json={"token": invited.json()["invitation_token"], "password": APPROVER_PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text


@pytest.mark.usefixtures("console_built")
async def test_second_user_approves_and_watches_the_execution_finish(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
    ) as admin:
        recommendation = await _lowest_risk_recommendation(admin)
        execution_id = await _request_remediation(admin, recommendation["id"])
        planned = (await admin.get(f"/v1/executions/{execution_id}")).json()
        risk = str(planned["risk_level"])  # the plan's: the highest of the recommendation's and its actions'
        # the least role that may approve the plan's risk
        role = {"low": "engineer", "medium": "finops_manager"}.get(risk, "admin")
        await _invite_approver(admin, role)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as approver:
            token = await approver.post(
                "/v1/auth/login", json={"email": APPROVER_EMAIL, "password": APPROVER_PASSWORD}
            )
            assert token.status_code == 200, token.text
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            inbox = await approver.get("/v1/approvals", headers=bearer)
        listed = [a["execution_id"] for a in inbox.json()["approvals"]]
        assert execution_id in listed, (risk, role, inbox.text)

        await page.goto(stack.base_url + "/")
        await page.get_by_test_id("login-email").fill(APPROVER_EMAIL)
        await page.get_by_test_id("login-password").fill(APPROVER_PASSWORD)
        await page.get_by_test_id("login-submit").click()
        await expect(page.get_by_test_id("current-role")).to_have_text(role.replace("_", " "))
        await page.get_by_test_id("nav-approvals").click()
        item = page.locator(f'[data-testid="approval-item"][data-execution-id="{execution_id}"]')
        await expect(item.get_by_test_id("approval-risk")).to_have_attribute("data-value", risk)
        await item.get_by_test_id("approval-link").click()

        detail = page.get_by_test_id("execution-detail")
        await expect(detail).to_have_attribute("data-execution-id", execution_id)
        state = page.get_by_test_id("execution-state")
        await expect(state).to_have_attribute("data-value", "pending_approval")
        await expect(page.get_by_test_id("execution-dry-run")).to_have_attribute("data-value", "true")

        documents: list[str] = []

        def on_request(sent: Request) -> None:
            if sent.resource_type == "document":
                documents.append(sent.url)

        page.on("request", on_request)
        await page.get_by_test_id("approval-comment").fill(COMMENT)
        await page.get_by_test_id("approval-approve").click()
        await expect(page.get_by_test_id("approval-decision-result")).to_have_attribute(
            "data-approved", "true"
        )
        await expect(state).to_have_attribute("data-final", "true", timeout=90_000)
        shown = await state.get_attribute("data-value")
        assert documents == [], "the page was reloaded"

        answer = await admin.get(f"/v1/executions/{execution_id}")
        assert answer.status_code == 200, answer.text
        execution = answer.json()
        assert shown == execution["state"] == "completed", execution
        assert execution["decision"]["decision"] == "approved"
        assert execution["decision"]["role"] == role
        assert execution["decision"]["channel"] == "rest"
        assert execution["decision"]["comment"] == COMMENT
        await expect(page.get_by_test_id("execution-decided")).to_contain_text(COMMENT)
        timeline = [
            await li.get_attribute("data-value")
            for li in await page.get_by_test_id("execution-timeline-item").all()
        ]
        assert timeline[-1] == "completed" and "approved" in timeline, timeline
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []
