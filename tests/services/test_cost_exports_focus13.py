"""``focus_raw`` as FOCUS 1.3: the 57 columns of 1.2 then the 8 columns 1.3 added, read back equal to the
ingested 1.3 file (JSON columns as the same JSON), the version stated in the manifest and the folder, and
``focus_version`` refused for other datasets naming the field."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, delete

from cloudoptima.domain.cost_exports import ExportRequest
from cloudoptima.domain.focus import FOCUS_COLUMNS
from cloudoptima.domain.focus_13 import COST_AND_USAGE_13
from cloudoptima.services.cost_exports import LocalFolderDestination, run_export
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow

FOCUS_13_FILE = (
    Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"
)
NOW = datetime(2023, 2, 2, tzinfo=UTC)
JANUARY = {"start": date(2023, 1, 1), "end": date(2023, 2, 1)}
ADDED = [column.name for column in COST_AND_USAGE_13]
JSON_ADDED = {"AllocatedMethodDetails", "AllocatedTags", "ContractApplied"}


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="exports-13", subscription_tier="free", settings={}
            )
        )
    ingest_path(engine, FOCUS_13_FILE, org_id)
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _normalised(row: dict[str, str]) -> tuple[object, ...]:
    """A row's BilledCost and 1.3 columns, JSON parsed, empty as None (comparable across files)."""
    values: list[object] = [row["BilledCost"].rstrip("0").rstrip(".")]
    for name in ADDED:
        value = row[name] or None
        values.append(json.loads(value) if value is not None and name in JSON_ADDED else value)
    return tuple(values)


def test_focus_13_export_carries_the_added_columns_equal_to_the_ingested_file(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    request = ExportRequest(dataset="focus_raw", format="csv", focus_version="1.3", **JANUARY)
    manifest = run_export(engine, org, request, LocalFolderDestination(tmp_path), now=NOW)
    folder = tmp_path / "focus_raw_1.3" / "2023-01-01_2023-02-01"
    assert json.loads((folder / "manifest.json").read_text())["focus_version"] == "1.3"
    assert manifest.focus_version == "1.3" and manifest.description.endswith("FOCUS 1.3 columns")
    assert manifest.columns == [column.name for column in FOCUS_COLUMNS] + ADDED
    [file] = manifest.files
    with (folder / file.path).open(encoding="utf-8", newline="") as handle:
        exported = list(csv.DictReader(handle))
    with FOCUS_13_FILE.open(encoding="utf-8", newline="") as handle:
        source = list(csv.DictReader(handle))
    assert len(exported) == manifest.rows == len(source) == 5
    assert sorted(map(_normalised, exported), key=repr) == sorted(map(_normalised, source), key=repr)
    assert manifest.billed_cost == {"USD": "8770.00"}

    plain = run_export(
        engine,
        org,
        ExportRequest(dataset="focus_raw", format="csv", **JANUARY),
        LocalFolderDestination(tmp_path),
        now=NOW,
    )
    assert plain.focus_version == "1.2" and "HostProviderName" not in plain.columns
    assert (tmp_path / "focus_raw" / "2023-01-01_2023-02-01" / "manifest.json").is_file()


def test_focus_version_is_only_for_focus_raw() -> None:
    with pytest.raises(ValidationError) as caught:
        ExportRequest(dataset="daily", focus_version="1.3", **JANUARY)
    assert "focus_version" in str(caught.value)
    with pytest.raises(ValidationError, match="focus_version"):
        ExportRequest.model_validate({"dataset": "focus_raw", "focus_version": "1.4", **JANUARY})
