"""The chat panel in a real Chromium against the whole platform (offline mode: no language model configured).

Signed in, the top bar's Chat toggle opens the panel; "What did we spend most on last month?" goes over the shared
WebSocket; the answer streams in as token frames (the reply grows token by token), a ``cost_by_dimension`` tool
row appears with its result, and the final answer states last month's period and a total that is the cost API's
``total_cost`` for that very period, rounded to cents with thousands separators as the answer prints it."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

QUESTION = "What did we spend most on last month?"


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


def last_month(today: date) -> tuple[date, date]:
    """The previous calendar month, end-exclusive."""
    end = today.replace(day=1)
    return (end - timedelta(days=1)).replace(day=1), end


@pytest.mark.usefixtures("console_built")
async def test_chat_streams_a_tool_call_and_the_apis_total_for_last_month(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    tokens: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        def on_frame(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame.get("type") == "chat" and frame.get("event") == "token":
                tokens.append(frame["data"]["text"])

        socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("chat-toggle").click()
    panel = page.get_by_test_id("chat-panel")
    await expect(panel).to_be_visible()
    await expect(page.get_by_test_id("chat-empty")).to_be_visible()

    await page.get_by_test_id("chat-input").fill(QUESTION)
    await page.get_by_test_id("chat-send").click()
    await expect(page.get_by_test_id("chat-message-user")).to_have_text(QUESTION)
    tool = panel.locator('[data-testid="chat-tool"][data-tool-name="cost_by_dimension"]')
    await expect(tool).to_have_attribute("data-status", "success")
    await expect(tool.get_by_test_id("chat-tool-args")).to_contain_text("group_by=service")
    await tool.get_by_test_id("chat-tool-summary").click()  # expands the row: the tool's result
    await expect(tool.get_by_test_id("chat-tool-result")).to_contain_text("total_billed_cost")
    answer = panel.locator('[data-testid="chat-message-assistant"][data-state="final"]')
    await expect(answer).to_have_count(1)
    await expect(panel).to_have_attribute("data-state", "idle")
    text = await answer.inner_text()
    # Offline: an analyst's sentences, a small badge instead of a bracketed prefix, no "(Answered offline from …)".
    await expect(answer).to_have_attribute("data-offline", "true")
    await expect(panel.get_by_test_id("chat-offline-badge")).to_have_text("offline answer")
    assert not text.startswith("[") and "Answered offline" not in text and "cost_by_dimension" not in text, (
        text
    )

    # Streamed: several token frames, the reply built from them in order (the panel counted them too).
    assert len(tokens) > 1, tokens
    assert "".join(tokens).strip() == text.strip()
    assert await answer.get_attribute("data-tokens") == str(len(tokens))

    start, end = last_month(datetime.now(UTC).date())
    stated = re.search(r"\((\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})\)", text)
    assert stated, text
    assert (stated[1], stated[2]) == (start.isoformat(), (end - timedelta(days=1)).isoformat()), text
    overview = await stack.api(
        "/v1/costs/overview", start_date=start.isoformat(), end_date=end.isoformat(), granularity="daily"
    )
    assert overview.status_code == 200, overview.text
    body = overview.json()
    total = Decimal(str(body["total_cost"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert total > 0, "the demo estate has spend last month"
    assert f"you spent {total:,} {body['currency']} in total" in text, (text, total)

    # A new conversation clears the panel and takes a fresh id.
    first = await panel.get_attribute("data-conversation")
    await page.get_by_test_id("chat-new").click()
    await expect(page.get_by_test_id("chat-empty")).to_be_visible()
    assert await panel.get_attribute("data-conversation") != first
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []


@pytest.mark.usefixtures("console_built")
async def test_chat_panel_is_full_screen_on_a_phone(page: Page, stack: Stack) -> None:
    await page.set_viewport_size({"width": 390, "height": 800})
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("chat-toggle").click()
    box = await page.get_by_test_id("chat-panel").bounding_box()
    assert box is not None and (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 800), box
    await page.get_by_test_id("chat-close").click()
    await expect(page.get_by_test_id("chat-panel")).to_be_hidden()
    await expect(page.get_by_test_id("chat-toggle")).to_have_attribute("aria-expanded", "false")
