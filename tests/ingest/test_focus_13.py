"""FOCUS 1.3 files, version detection and the FOCUS requirements model (#21)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cloudoptima.domain.focus import mandatory_columns, snake_case
from cloudoptima.domain.focus_13 import COST_AND_USAGE_13
from cloudoptima.ingest import BillingFileError, open_billing_source
from cloudoptima.ingest.contract_commitment import read_contract_commitments
from cloudoptima.ingest.focus_versions import detect_focus_version, missing_mandatory
from cloudoptima.ingest.requirements_model import ERRATA, RuleKind, load_model

from .conftest import FIXTURES, FOCUS_SAMPLE, decimal_sum, oracle_sum, read_all

FOCUS_13 = FIXTURES / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"
COMMITMENTS = FIXTURES / "focus_spec_examples" / "focus_1.3_contract_commitment.csv"


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _edited(tmp_path: Path, line: int, **values: str) -> Path:
    """The 1.3 fixture with ``values`` set on the row at physical ``line`` (header = line 1)."""
    header, rows = _rows(FOCUS_13)
    rows[line - 2].update(values)
    return _write(tmp_path / "edited.csv", header, rows)


def test_version_detected_from_the_columns() -> None:
    header_10, _ = _rows(FOCUS_SAMPLE)
    header_13, _ = _rows(FOCUS_13)
    assert detect_focus_version(header_10) == "1.0"
    assert detect_focus_version([*header_10, "SkuMeter"]) == "1.1"
    assert detect_focus_version([*header_10, "SkuMeter", "InvoiceId"]) == "1.2"
    assert detect_focus_version(header_13) == "1.3"
    assert detect_focus_version([*header_10, "allocated_tags"]) == "1.3"
    assert missing_mandatory("1.3", header_13) == []
    # 1.3 makes ServiceProviderName / HostProviderName Mandatory.
    assert missing_mandatory("1.3", [*header_10, "AllocatedTags"]) == [
        "HostProviderName",
        "ServiceProviderName",
    ]
    assert read_all(FOCUS_SAMPLE).summary.files[0].focus_version == "1.0"
    assert read_all(FOCUS_13).summary.files[0].focus_version == "1.3"


def test_every_13_column_is_kept_and_totals_are_exact() -> None:
    result = read_all(FOCUS_13)
    _, rows = _rows(FOCUS_13)
    table = result.table
    assert result.summary.rows_accepted == len(rows) == 5
    assert result.summary.quarantine == []
    assert result.summary.findings == []  # built from the spec's examples: conforms to every evaluated rule
    extensions = [json.loads(text) for text in table.column("extensions").to_pylist()]
    for column in COST_AND_USAGE_13:
        kept = [ext.get(column.name) for ext in extensions]
        assert kept == [row[column.name] or None for row in rows], column.name
    # 1.1 / 1.2 additions land in their own typed columns.
    assert table.column("capacity_reservation_status").to_pylist() == [None, "Used", None, None, None]
    assert table.column("commitment_discount_quantity").to_pylist() == ["8760.00", "0.75", "0.25", None, None]
    assert table.column("commitment_discount_unit").to_pylist()[:3] == ["USD", "USD", "USD"]
    assert set(table.column("service_subcategory").to_pylist()) == {"Virtual Machines"}
    assert table.column("sku_price_details").to_pylist()[1] == '{"CoreCount":2}'
    for name in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert decimal_sum(table, snake_case(name)) == oracle_sum(FOCUS_13, name)
    assert result.summary.total_billed_cost() == Decimal("8770.00")


def test_service_provider_name_replaces_the_deprecated_provider_name(tmp_path: Path) -> None:
    header, rows = _rows(FOCUS_13)
    for row in rows:
        row["ServiceProviderName"] = "Amazon Web Services"
    kept = [name for name in header if name not in ("ProviderName", "PublisherName")]
    result = read_all(_write(tmp_path / "no_provider.csv", kept, rows))
    assert set(result.table.column("provider_name").to_pylist()) == {"Amazon Web Services"}
    assert set(result.table.column("provider").to_pylist()) == {"aws"}
    assert set(result.table.column("publisher_name").to_pylist()) == {"ACMECORP"}
    for text in result.table.column("extensions").to_pylist():
        keys = set(json.loads(text)) if text is not None else set()
        assert not keys & {"ServiceProviderName", "HostProviderName"}

    without = [name for name in kept if name != "ServiceProviderName"]
    with pytest.raises(BillingFileError) as error:
        open_billing_source(_write(tmp_path / "no_provider_at_all.csv", without, rows))
    assert error.value.line == 1
    assert "ProviderName, ServiceProviderName" in error.value.message


def test_a_cost_rule_violation_refuses_the_file_naming_line_and_column(tmp_path: Path) -> None:
    source = open_billing_source(_edited(tmp_path, 4, BillingCurrency="ABC"))
    with pytest.raises(BillingFileError) as error:
        list(source.batches())
    assert error.value.line == 4
    assert error.value.column == "BillingCurrency"
    assert error.value.message.startswith(
        "BillingCurrency-C-003-M: BillingCurrency MUST conform to CurrencyFormat"
    )
    assert "'ABC'" in error.value.message


def test_other_rule_violations_are_findings_on_accepted_rows(tmp_path: Path) -> None:
    no_commitment_id = json.dumps(
        {"Elements": [{"ContractId": "12345", "ContractCommitmentAppliedCost": 0.75}]}
    )
    path = _edited(tmp_path, 3, AllocatedTags="team=a", ContractApplied=no_commitment_id)
    header, rows = _rows(path)
    rows[3]["ResourceId"] = ""  # line 5 keeps ResourceType "Kubernetes Node"
    result = read_all(_write(path, header, rows))
    assert result.summary.rows_accepted == 5
    found = {(f.line, f.column, f.reason.split(":")[0], f.raw_value) for f in result.summary.findings}
    assert found == {
        (3, "AllocatedTags", "AllocatedTags-1.3-json", "team=a"),
        (5, "ResourceType", "ResourceType-C-004-C", "Kubernetes Node"),
        (3, "ContractApplied", "ContractApplied-1.3-object", no_commitment_id),
    }
    assert result.summary.findings_by_rule == {
        "AllocatedTags-1.3-json": 1,
        "ResourceType-C-004-C": 1,
        "ContractApplied-1.3-object": 1,
    }


def test_focus_10_sample_totals_unchanged_and_its_findings_counted() -> None:
    result = read_all(FOCUS_SAMPLE)
    summary = result.summary
    assert summary.rows_accepted == 1000
    for column, db_name in (("BilledCost", "billed_cost"), ("EffectiveCost", "effective_cost")):
        assert decimal_sum(result.table, db_name) == oracle_sum(FOCUS_SAMPLE, column)
    # Measured on the official sample: AWS rows name "AWS" as provider but "Amazon Web Services, Inc." as
    # invoice issuer, which the model reads as a third-party charge whose BilledCost must be 0.
    assert summary.findings_by_rule["BilledCost-C-005-C"] == 615
    assert summary.findings_by_rule["ResourceType-C-004-C"] == 36
    assert sum(summary.findings_by_rule.values()) == len(summary.findings) == 1223


def test_the_model_compiles_into_counted_rule_kinds() -> None:
    model = load_model()
    assert model.version == "1.2"
    assert model.dynamic == 201
    assert sum(model.kinds.values()) == 420
    assert model.kinds[RuleKind.ROW] == len(model.rules) == 88
    assert model.header_mandatory == mandatory_columns("1.2")
    assert not {rule.rule_id for rule in model.rules} & ERRATA.keys()
    blocking = sorted(rule.rule_id for rule in model.rules if rule.blocking)
    assert blocking == ["BillingCurrency-C-003-M", "BillingCurrency-C-006-M", "ChargeCategory-C-003-M"]
    assert "USD" in model.currencies and "ABC" not in model.currencies


def test_contract_commitment_dataset_is_read_and_checked(tmp_path: Path) -> None:
    spend, usage = read_contract_commitments(COMMITMENTS)
    assert (spend.contract_commitment_id, spend.contract_id, spend.contract_commitment_category) == (
        "23456",
        "12345",
        "Spend",
    )
    assert spend.contract_commitment_cost == Decimal("500000.00") and spend.billing_currency == "USD"
    assert usage.contract_commitment_quantity == Decimal("10000.00")
    assert usage.contract_commitment_unit == "compute_hours" and usage.contract_commitment_cost is None
    assert usage.source_line == 3
    assert spend.contract_period_end.isoformat() == "2026-01-01T00:00:00+00:00"

    header, rows = _rows(COMMITMENTS)
    rows[1]["ContractCommitmentCategory"] = "Minimum"
    with pytest.raises(BillingFileError) as error:
        read_contract_commitments(_write(tmp_path / "bad.csv", header, rows))
    assert (error.value.line, error.value.column) == (3, "ContractCommitmentCategory")

    with pytest.raises(BillingFileError) as error:
        read_contract_commitments(_write(tmp_path / "short.csv", header[:-1], rows))
    assert (error.value.line, error.value.column) == (1, header[-1])

    with pytest.raises(BillingFileError) as error:
        open_billing_source(COMMITMENTS)
    assert "Contract Commitment dataset" in error.value.message


def test_a_parquet_13_file_reads_like_the_csv(tmp_path: Path) -> None:
    table = pacsv.read_csv(FOCUS_13, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    table = table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))
    tags = pa.array(
        [None, None, None, [("team", "team-a")], [("team", "team-b")]], pa.map_(pa.string(), pa.string())
    )
    table = table.set_column(table.column_names.index("AllocatedTags"), "AllocatedTags", tags)
    pq.write_table(table, tmp_path / "focus13.parquet")
    result = read_all(tmp_path / "focus13.parquet")
    assert result.summary.files[0].focus_version == "1.3"
    assert result.summary.total_billed_cost() == Decimal("8770.00")
    assert result.summary.findings == []
    extensions = [json.loads(text) for text in result.table.column("extensions").to_pylist()]
    assert [ext.get("AllocatedMethodId") for ext in extensions] == [
        None,
        None,
        None,
        "vcpu-proportional",
        "vcpu-proportional",
    ]
