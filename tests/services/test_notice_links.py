"""Notice links (``cloudoptima.services.notice_links``) and the console URL setting they are built from."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from cloudoptima.services.notice_links import TARGETS, notice_links
from cloudoptima.settings import Settings

THING = uuid.UUID("0b8d0c4e-6f1a-4c55-9a4e-2f0d1e7a9c11")
GATEWAY = "http://127.0.0.1:8000"

# every kind's console page (web/src/App.tsx routes) and API path
EXPECTED = {
    "anomaly": (f"/anomalies/{THING}", f"/v1/costs/anomalies/{THING}"),
    "recommendation": (f"/recommendations/{THING}", f"/v1/recommendations/{THING}"),
    "execution": (f"/approvals/{THING}", f"/v1/executions/{THING}"),
    "report": ("/reports", f"/v1/reports/{THING}"),
    "budget": ("/budgets", f"/v1/budgets/{THING}"),
    "account": ("/accounts", f"/v1/cloud-accounts/{THING}"),
    "policy": (f"/policies/{THING}", f"/v1/policies/{THING}"),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_kind_links_to_its_console_page_else_to_the_api(kind: str) -> None:
    page, api = EXPECTED[kind]
    assert kind in TARGETS
    # the console: the same absolute page for the inbox and channels
    assert notice_links(kind, THING, "https://finops.example.com/", GATEWAY) == (  # type: ignore[arg-type]
        f"https://finops.example.com{page}",
        f"https://finops.example.com{page}",
    )
    # a console served under the gateway's address at a path: absolute under the public URL for channels
    assert notice_links(kind, THING, "/console", GATEWAY) == (f"/console{page}", f"{GATEWAY}/console{page}")  # type: ignore[arg-type]
    # headless: the inbox gets the API path, channels the API under the public URL, or no link at all
    assert notice_links(kind, THING, None, GATEWAY + "/") == (api, f"{GATEWAY}{api}")  # type: ignore[arg-type]
    assert notice_links(kind, THING, "", None) == (api, None)  # type: ignore[arg-type]


def test_the_console_url_defaults_to_the_public_url_only_when_the_console_is_built(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    built = tmp_path / "dist"
    built.mkdir()
    (built / "index.html").write_text("<!doctype html>")
    public = "https://finops.example.com/"
    assert Settings(public_url=public, console_dir=built).resolved_console_url == "https://finops.example.com"
    assert Settings(public_url=public, console_dir=empty).resolved_console_url is None
    assert Settings(console_dir=built, gateway_port=8123).resolved_console_url == "http://127.0.0.1:8123"
    # explicit: wins over the default; empty = no console (links to the API)
    assert Settings(console_url="https://app.example.com/", console_dir=empty).resolved_console_url == (
        "https://app.example.com"
    )
    assert Settings(console_url="  ", console_dir=built).resolved_console_url is None
    assert Settings(console_url="/console/", console_dir=empty).resolved_console_url == "/console"
    with pytest.raises(ValidationError, match="CLOUDOPTIMA_CONSOLE_URL must be an http"):
        Settings(console_url="ftp://files.example.com")
