"""Browser tests: Debian's headless Chromium, driven by Playwright, against the whole platform.

Contract:
- ``stack`` (once for this folder, stopped after its last test so the rest of a run does not share the
  machine with it): ``cloudoptima up`` as a subprocess on free ports with a fresh state
  directory (``cloudoptima_cli.up_child``, which the console benchmark starts too), exactly as ``tests/e2e``
  starts it (embedded Postgres, Redis and Temporal, worker, gateway serving
  the console from ``web/dist``, the demo organisation with the sandbox estate loaded; tracker and channel URLs on
  localhost over http accepted, for the fakes tests start); stopped with Ctrl-C.
- ``browser`` (once for this folder): ``/usr/bin/chromium`` (``CHROMIUM`` overrides) through Playwright's
  ``executable_path`` with the flags this machine needs; no browser is ever downloaded. Missing: every browser
  test skips, saying how to install it (``make test`` installs it when run as root). Playwright's async API on
  the session's event loop (tests are ``async``): its sync API keeps a loop marked running while it is open,
  which breaks every later asyncio fixture of the session.
- ``page``: a fresh context (empty profile: no cookies, no storage) and page per test; every console message,
  page error and request that leaves the gateway's origin is recorded on ``page_log``. After the test, a
  screenshot of the page as it was left is saved under the test's ``tmp_path``: ``screen.png`` (the viewport),
  or ``failure.png`` (the full page) when the test failed; its path is printed (shown with ``-rA`` or a failure).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Error, Page, Request, async_playwright, expect

from cloudoptima_cli.up_child import start_up_child

REPO = Path(__file__).resolve().parents[2]
# The suite runs this folder beside another xdist worker on a 2-core machine: an assertion waits up to 15 s
# (Playwright's default is 5 s) for the page to reach the state it expects. A wrong page still fails, later.
expect.set_options(timeout=15_000)
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONSOLE_INDEX = REPO / "web" / "dist" / "index.html"


@dataclass(frozen=True)
class Stack:
    """A running platform: its gateway's base URL and the demo login ``cloudoptima up`` created."""

    base_url: str
    email: str
    password: str
    api_key: str
    organization_id: str

    async def api(self, path: str, **params: str) -> httpx.Response:
        """``GET`` ``path`` on the gateway as the demo organisation (its API key)."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            return await client.get(path, params=params, headers={"X-API-Key": self.api_key})


@dataclass
class PageLog:
    """What one page said and asked for: console messages, uncaught errors, requests to other origins."""

    origin: str
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's chromium (`sudo apt-get install --no-install-recommends "
            "chromium`; `make test` does it when run as root)"
        )
    return CHROMIUM


@pytest.fixture(autouse=True)
def _needs_chromium(chromium_path: Path) -> None:
    """Skip before anything is started (the stack takes half a minute) when there is no Chromium."""


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("browser-stack") / "state"
    # Receivers the tests start (the ticket tracker fakes) listen on 127.0.0.1 over http.
    local = {"NOTIFICATIONS_ALLOW_INSECURE_LOCALHOST": "true"}
    child = start_up_child(state, console_dir=CONSOLE_INDEX.parent, cwd=REPO, extra_env=local)
    try:
        credentials = child.credentials()
        yield Stack(
            base_url=child.base_url,
            email=credentials["email"],
            password=credentials["password"],
            api_key=credentials["api_key"],
            organization_id=credentials["organization_id"],
        )
    finally:
        child.stop()


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def page_log(stack: Stack) -> PageLog:
    return PageLog(origin=stack.base_url)


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test itself failed, for ``page``'s screenshot."""
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest_asyncio.fixture
async def page(
    browser: Browser, page_log: PageLog, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    opened = await context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        page_log.console.append((message.type, message.text))

    def on_error(error: Error) -> None:
        page_log.errors.append(str(error))

    def on_request(sent: Request) -> None:
        if not sent.url.startswith((page_log.origin + "/", "data:", "blob:")):
            page_log.foreign_requests.append(sent.url)

    opened.on("console", on_console)
    opened.on("pageerror", on_error)
    opened.on("request", on_request)
    try:
        yield opened
    finally:
        failed = request.node.stash.get(_FAILED, False)
        shot = tmp_path / ("failure.png" if failed else "screen.png")
        await opened.screenshot(path=str(shot), full_page=failed)
        print(f"screenshot of the page as the test left it: {shot}")
        await context.close()
