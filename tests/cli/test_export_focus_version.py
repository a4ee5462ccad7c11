"""``cloudoptima export --focus-version``: focus_raw as FOCUS 1.3 (stated in the manifest, in
``focus_raw_1.3/``), and the flag refused for another dataset, naming it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from typer.testing import CliRunner

from cloudoptima.storage.models import Organization
from cloudoptima_cli.app import app


def test_focus_version_flag(
    engine: Engine, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    org = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org, name=f"cli-export-13-{org}", subscription_tier="free", settings={}
            )
        )
    try:
        base = [
            "export",
            "--org",
            str(org),
            "--out",
            str(tmp_path / "out"),
            "--state-dir",
            str(tmp_path / "s"),
        ]
        base += ["--start", "2024-09-01", "--end", "2024-10-01", "--format", "csv"]
        refused = CliRunner().invoke(app, [*base, "--dataset", "daily", "--focus-version", "1.3"])
        assert refused.exit_code == 1 and "focus_version: only the focus_raw dataset" in refused.output
        result = CliRunner().invoke(
            app, [*base, "--dataset", "focus_raw", "--focus-version", "1.3", "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["focus_version"] == "1.3"
        folder = tmp_path / "out" / "focus_raw_1.3" / "2024-09-01_2024-10-01"
        assert json.loads((folder / "manifest.json").read_text())["columns"][-1] == "ServiceProviderName"
    finally:
        with engine.begin() as connection:
            connection.execute(delete(Organization).where(Organization.id == org))
