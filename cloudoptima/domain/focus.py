"""The FOCUS 1.2 column catalogue: names, kinds, types, feature levels, allowed values, versions.

Source: FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec tag v1.2, ``specification/columns/*.md`` (57 columns:
21 Mandatory, 32 Conditional, 4 Recommended). Pure data, no I/O, no third-party imports.

Contract:
- ``FOCUS_COLUMNS`` lists every 1.2 column once, in alphabetical order of its FOCUS name.
- ``FocusColumn.db_name`` is the snake_case name used by the ``cost_data`` table and ingest output.
- ``mandatory_columns(version)`` is the set of FOCUS names that a dataset claiming ``version`` must carry:
  the columns whose 1.2 level is Mandatory and that existed in that version.
- ``ALLOWED_VALUES`` maps a FOCUS name to its closed set of allowed values (exact spelling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ColumnKind(StrEnum):
    """Whether a column is a measure (summed) or a dimension (grouped by)."""

    METRIC = "metric"
    DIMENSION = "dimension"


class ColumnType(StrEnum):
    """FOCUS data type of a column."""

    DECIMAL = "decimal"
    STRING = "string"
    DATETIME = "datetime"
    JSON = "json"


class FeatureLevel(StrEnum):
    """FOCUS feature level in 1.2."""

    MANDATORY = "mandatory"
    CONDITIONAL = "conditional"
    RECOMMENDED = "recommended"


SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2")
"""FOCUS versions the platform reads; ``1.0-preview`` columns count as 1.0."""


def _version_key(version: str) -> tuple[int, int, int]:
    """Sort key for '0.5', '1.0-preview', '1.0', '1.1', '1.2' (preview sorts before its release)."""
    base, _, suffix = version.partition("-")
    major, minor = (int(part) for part in base.split("."))
    return (major, minor, 0 if suffix else 1)


def snake_case(name: str) -> str:
    """``BilledCost`` -> ``billed_cost``; ``ListUnitPrice`` -> ``list_unit_price``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True, slots=True)
class FocusColumn:
    """One FOCUS column as specified in 1.2."""

    name: str
    kind: ColumnKind
    type: ColumnType
    level: FeatureLevel
    nullable: bool
    since: str

    @property
    def db_name(self) -> str:
        """snake_case name of the column in ``cost_data`` and in ingest output."""
        return snake_case(self.name)

    def exists_in(self, version: str) -> bool:
        """True when the column is part of FOCUS ``version`` (e.g. '1.0')."""
        return _version_key(self.since) <= _version_key(version)


_M, _D = ColumnKind.METRIC, ColumnKind.DIMENSION
_DEC, _STR, _DT, _JSON = ColumnType.DECIMAL, ColumnType.STRING, ColumnType.DATETIME, ColumnType.JSON
_MAN, _CON, _REC = FeatureLevel.MANDATORY, FeatureLevel.CONDITIONAL, FeatureLevel.RECOMMENDED

FOCUS_COLUMNS: tuple[FocusColumn, ...] = (
    FocusColumn("AvailabilityZone", _D, _STR, _REC, True, "0.5"),
    FocusColumn("BilledCost", _M, _DEC, _MAN, False, "0.5"),
    FocusColumn("BillingAccountId", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("BillingAccountName", _D, _STR, _MAN, True, "0.5"),
    FocusColumn("BillingAccountType", _D, _STR, _CON, False, "1.2"),
    FocusColumn("BillingCurrency", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("BillingPeriodEnd", _D, _DT, _MAN, False, "0.5"),
    FocusColumn("BillingPeriodStart", _D, _DT, _MAN, False, "0.5"),
    FocusColumn("CapacityReservationId", _D, _STR, _CON, True, "1.1"),
    FocusColumn("CapacityReservationStatus", _D, _STR, _CON, True, "1.1"),
    FocusColumn("ChargeCategory", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("ChargeClass", _D, _STR, _MAN, True, "1.0"),
    FocusColumn("ChargeDescription", _D, _STR, _MAN, True, "1.0-preview"),
    FocusColumn("ChargeFrequency", _D, _STR, _REC, False, "1.0-preview"),
    FocusColumn("ChargePeriodEnd", _D, _DT, _MAN, False, "0.5"),
    FocusColumn("ChargePeriodStart", _D, _DT, _MAN, False, "0.5"),
    FocusColumn("CommitmentDiscountCategory", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("CommitmentDiscountId", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("CommitmentDiscountName", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("CommitmentDiscountQuantity", _M, _DEC, _CON, True, "1.1"),
    FocusColumn("CommitmentDiscountStatus", _D, _STR, _CON, True, "1.0"),
    FocusColumn("CommitmentDiscountType", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("CommitmentDiscountUnit", _D, _STR, _CON, True, "1.1"),
    FocusColumn("ConsumedQuantity", _M, _DEC, _CON, True, "1.0"),
    FocusColumn("ConsumedUnit", _D, _STR, _CON, True, "1.0"),
    FocusColumn("ContractedCost", _M, _DEC, _MAN, False, "1.0"),
    FocusColumn("ContractedUnitPrice", _M, _DEC, _CON, True, "1.0"),
    FocusColumn("EffectiveCost", _M, _DEC, _MAN, False, "0.5"),
    FocusColumn("InvoiceId", _D, _STR, _REC, True, "1.2"),
    FocusColumn("InvoiceIssuerName", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("ListCost", _M, _DEC, _MAN, False, "1.0-preview"),
    FocusColumn("ListUnitPrice", _M, _DEC, _CON, True, "1.0-preview"),
    FocusColumn("PricingCategory", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("PricingCurrency", _D, _STR, _CON, True, "1.2"),
    FocusColumn("PricingCurrencyContractedUnitPrice", _M, _DEC, _CON, True, "1.2"),
    FocusColumn("PricingCurrencyEffectiveCost", _M, _DEC, _CON, True, "1.2"),
    FocusColumn("PricingCurrencyListUnitPrice", _M, _DEC, _CON, True, "1.2"),
    FocusColumn("PricingQuantity", _M, _DEC, _MAN, True, "1.0-preview"),
    FocusColumn("PricingUnit", _D, _STR, _MAN, True, "1.0-preview"),
    FocusColumn("ProviderName", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("PublisherName", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("RegionId", _D, _STR, _CON, True, "1.0"),
    FocusColumn("RegionName", _D, _STR, _CON, True, "1.0"),
    FocusColumn("ResourceId", _D, _STR, _CON, True, "0.5"),
    FocusColumn("ResourceName", _D, _STR, _CON, True, "0.5"),
    FocusColumn("ResourceType", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("ServiceCategory", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("ServiceName", _D, _STR, _MAN, False, "0.5"),
    FocusColumn("ServiceSubcategory", _D, _STR, _REC, False, "1.1"),
    FocusColumn("SkuId", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("SkuMeter", _D, _STR, _CON, True, "1.1"),
    FocusColumn("SkuPriceDetails", _D, _JSON, _CON, True, "1.1"),
    FocusColumn("SkuPriceId", _D, _STR, _CON, True, "1.0-preview"),
    FocusColumn("SubAccountId", _D, _STR, _CON, True, "0.5"),
    FocusColumn("SubAccountName", _D, _STR, _CON, True, "0.5"),
    FocusColumn("SubAccountType", _D, _STR, _CON, True, "1.2"),
    FocusColumn("Tags", _D, _JSON, _CON, True, "1.0-preview"),
)

COLUMNS_BY_NAME: dict[str, FocusColumn] = {column.name: column for column in FOCUS_COLUMNS}
COLUMNS_BY_DB_NAME: dict[str, FocusColumn] = {column.db_name: column for column in FOCUS_COLUMNS}

SERVICE_CATEGORIES: tuple[str, ...] = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)

ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "CommitmentDiscountStatus": ("Used", "Unused"),
    "CommitmentDiscountCategory": ("Spend", "Usage"),
    "CapacityReservationStatus": ("Used", "Unused"),
    "ServiceCategory": SERVICE_CATEGORIES,
}
"""Closed value sets (FOCUS 1.2). Columns not listed here accept any string."""

NEGATIVE_COST_CATEGORIES: frozenset[str] = frozenset({"Credit", "Adjustment"})
"""ChargeCategory values whose cost columns may be negative; ChargeClass 'Correction' also may."""


def columns_in(version: str) -> tuple[FocusColumn, ...]:
    """The columns defined by FOCUS ``version``, in catalogue order."""
    return tuple(column for column in FOCUS_COLUMNS if column.exists_in(version))


def mandatory_columns(version: str) -> frozenset[str]:
    """FOCUS names that must be present in a dataset claiming ``version`` ('1.0', '1.1' or '1.2')."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported FOCUS version {version!r}; expected one of {SUPPORTED_VERSIONS}")
    return frozenset(column.name for column in columns_in(version) if column.level is FeatureLevel.MANDATORY)


def detect_version(column_names: frozenset[str] | set[str]) -> str:
    """The lowest supported FOCUS version that defines every FOCUS column present in ``column_names``."""
    version = SUPPORTED_VERSIONS[0]
    for name in column_names:
        column = COLUMNS_BY_NAME.get(name)
        if column is None:
            continue
        for candidate in SUPPORTED_VERSIONS:
            if column.exists_in(candidate):
                if _version_key(candidate) > _version_key(version):
                    version = candidate
                break
    return version
