"""``cloudoptima prices show`` reports what the store holds and the last failure; ``refresh`` checks its input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from typer.testing import CliRunner

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import ListPriceRow, PriceRefreshRow
from cloudoptima.storage.price_store import record_failure, replace_prices
from cloudoptima_cli.app import app

AT = datetime(2031, 3, 1, 4, tzinfo=UTC)


@pytest.fixture
def stored(engine: Engine) -> Iterator[None]:
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        replace_prices(
            session,
            CloudProvider.GCP,
            [
                ListPrice(CloudProvider.GCP, PriceKind.DISK, "us-central1", "pd-ssd", Decimal("0.17"), "CE"),
                ListPrice(
                    CloudProvider.GCP, PriceKind.DISK, "europe-west1", "pd-ssd", Decimal("0.187"), "CE"
                ),
            ],
            "GCP Cloud Billing Catalog",
            AT,
        )
        record_failure(session, CloudProvider.GCP, "GCP Cloud Billing Catalog", "HTTP 403: no API key", AT)
    yield
    with sessions() as session, session.begin():
        session.execute(delete(ListPriceRow).where(ListPriceRow.provider == "gcp"))
        session.execute(delete(PriceRefreshRow).where(PriceRefreshRow.provider == "gcp"))


def test_show_lists_the_stored_prices_and_the_last_failure(
    stored: None, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    result = CliRunner().invoke(app, ["prices", "show", "--json", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = {row["provider"]: row for row in json.loads(result.output)}
    gcp = rows["gcp"]
    assert (gcp["source"], gcp["prices"], gcp["regions"]) == (
        "GCP Cloud Billing Catalog, fetched 2031-03-01",
        2,
        2,
    )
    assert gcp["kinds"] == {"disk": 2}
    assert (gcp["last_status"], gcp["last_error"]) == ("failed", "HTTP 403: no API key")


def test_refresh_refuses_an_unknown_provider(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["prices", "refresh", "--provider", "oci", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "--provider must be one of aws, azure, gcp (got oci)" in result.output
