"""The FOCUS 1.2 column catalogue matches the specification's counts, names and version rules."""

from __future__ import annotations

from collections import Counter

import pytest

from cloudoptima.domain.focus import (
    ALLOWED_VALUES,
    FOCUS_COLUMNS,
    FeatureLevel,
    columns_in,
    detect_version,
    mandatory_columns,
    snake_case,
)
from cloudoptima.ingest import CANONICAL_SCHEMA


def test_catalogue_has_57_columns_with_the_specified_levels() -> None:
    assert len(FOCUS_COLUMNS) == 57
    assert len({column.name for column in FOCUS_COLUMNS}) == 57
    levels = Counter(column.level for column in FOCUS_COLUMNS)
    assert levels == {FeatureLevel.MANDATORY: 21, FeatureLevel.CONDITIONAL: 32, FeatureLevel.RECOMMENDED: 4}


def test_db_names_are_snake_case() -> None:
    assert snake_case("PricingCurrencyContractedUnitPrice") == "pricing_currency_contracted_unit_price"
    names = {column.name: column.db_name for column in FOCUS_COLUMNS}
    assert names["BilledCost"] == "billed_cost"
    assert names["SkuPriceId"] == "sku_price_id"
    assert names["ChargePeriodStart"] == "charge_period_start"


def test_mandatory_columns_per_version() -> None:
    assert len(mandatory_columns("1.2")) == 21
    assert mandatory_columns("1.0") == mandatory_columns("1.2")  # no Mandatory column was added after 1.0
    assert "BillingAccountType" not in {column.name for column in columns_in("1.1")}
    assert len(columns_in("1.0")) < len(columns_in("1.1")) < len(columns_in("1.2")) == 57
    with pytest.raises(ValueError, match="unsupported FOCUS version"):
        mandatory_columns("0.5")


def test_version_is_detected_from_the_newest_column_present() -> None:
    assert detect_version({"BilledCost", "ChargeClass"}) == "1.0"
    assert detect_version({"BilledCost", "ServiceSubcategory"}) == "1.1"
    assert detect_version({"BilledCost", "SkuMeter", "InvoiceId"}) == "1.2"


def test_allowed_values() -> None:
    assert ALLOWED_VALUES["ChargeCategory"] == ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
    assert "Usage-Based" in ALLOWED_VALUES["ChargeFrequency"]
    assert len(ALLOWED_VALUES["ServiceCategory"]) == 19


def test_canonical_schema_has_every_focus_column_plus_lineage() -> None:
    names = CANONICAL_SCHEMA.names
    assert names[:57] == [column.db_name for column in FOCUS_COLUMNS]
    assert names[57:] == ["provider", "extensions", "source_file", "source_line"]
    assert str(CANONICAL_SCHEMA.field("billed_cost").type) == "string"
    assert str(CANONICAL_SCHEMA.field("charge_period_start").type) == "timestamp[us, tz=UTC]"
