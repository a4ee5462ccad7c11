"""FOCUS 1.3 additions to the 1.2 catalogue (``cloudoptima.domain.focus``): pure data, no I/O.

Source: FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec 1.3, ``specification/datasets/cost_and_usage`` (65
columns: the 57 of 1.2 plus the 8 below; ProviderName and PublisherName are deprecated in 1.3 in favour of
ServiceProviderName and HostProviderName, still Mandatory) and ``specification/datasets/contract_commitment``
(a new supporting dataset of 13 columns, joined to Cost and Usage through the ``ContractCommitmentId``
property of the objects in ``ContractApplied``).

Contract:
- ``COST_AND_USAGE_13`` lists the 1.3 Cost and Usage columns that 1.2 did not have (``since == "1.3"``).
- ``DEPRECATED_13`` maps a deprecated 1.2 column to its 1.3 replacement.
- ``CONTRACT_COMMITMENT_COLUMNS`` lists the 13 Contract Commitment columns; all are Mandatory (present),
  ``nullable`` says whether a value may be null. The spec's ``Numeric`` type is ``ColumnType.DECIMAL``.
- The FOCUS dataset itself carries no version column (the version is dataset metadata), so a file's
  version is inferred from the columns it carries (``cloudoptima.ingest.focus_versions``).
"""

from __future__ import annotations

from cloudoptima.domain.focus import ColumnKind, ColumnType, FeatureLevel, FocusColumn

_M, _D = ColumnKind.METRIC, ColumnKind.DIMENSION
_DEC, _STR, _DT, _JSON = ColumnType.DECIMAL, ColumnType.STRING, ColumnType.DATETIME, ColumnType.JSON
_MAN, _CON, _REC = FeatureLevel.MANDATORY, FeatureLevel.CONDITIONAL, FeatureLevel.RECOMMENDED

FOCUS_13 = "1.3"

COST_AND_USAGE_13: tuple[FocusColumn, ...] = (
    FocusColumn("AllocatedMethodDetails", _D, _JSON, _REC, True, FOCUS_13),
    FocusColumn("AllocatedMethodId", _D, _STR, _CON, True, FOCUS_13),
    FocusColumn("AllocatedResourceId", _D, _STR, _CON, True, FOCUS_13),
    FocusColumn("AllocatedResourceName", _D, _STR, _CON, True, FOCUS_13),
    FocusColumn("AllocatedTags", _D, _JSON, _CON, True, FOCUS_13),
    # "Dimension / Metric" in the spec: a JSON object whose array items carry applied cost and quantity.
    FocusColumn("ContractApplied", _D, _JSON, _CON, True, FOCUS_13),
    FocusColumn("HostProviderName", _D, _STR, _MAN, False, FOCUS_13),
    FocusColumn("ServiceProviderName", _D, _STR, _MAN, False, FOCUS_13),
)
COLUMNS_13_BY_NAME: dict[str, FocusColumn] = {column.name: column for column in COST_AND_USAGE_13}

DEPRECATED_13: dict[str, str] = {"ProviderName": "ServiceProviderName", "PublisherName": "HostProviderName"}
"""Deprecated in 1.3 (still Mandatory there) -> the column that replaces it."""

CONTRACT_COMMITMENT_COLUMNS: tuple[FocusColumn, ...] = (
    FocusColumn("BillingCurrency", _D, _STR, _MAN, True, FOCUS_13),
    FocusColumn("ContractCommitmentCategory", _D, _STR, _MAN, False, FOCUS_13),
    FocusColumn("ContractCommitmentCost", _M, _DEC, _MAN, True, FOCUS_13),
    FocusColumn("ContractCommitmentDescription", _D, _STR, _MAN, True, FOCUS_13),
    FocusColumn("ContractCommitmentId", _D, _STR, _MAN, False, FOCUS_13),
    FocusColumn("ContractCommitmentPeriodEnd", _D, _DT, _MAN, False, FOCUS_13),
    FocusColumn("ContractCommitmentPeriodStart", _D, _DT, _MAN, False, FOCUS_13),
    FocusColumn("ContractCommitmentQuantity", _M, _DEC, _MAN, True, FOCUS_13),
    FocusColumn("ContractCommitmentType", _D, _STR, _MAN, False, FOCUS_13),
    FocusColumn("ContractCommitmentUnit", _D, _STR, _MAN, True, FOCUS_13),
    FocusColumn("ContractId", _D, _STR, _MAN, False, FOCUS_13),
    FocusColumn("ContractPeriodEnd", _D, _DT, _MAN, False, FOCUS_13),
    FocusColumn("ContractPeriodStart", _D, _DT, _MAN, False, FOCUS_13),
)
CONTRACT_COMMITMENT_BY_NAME: dict[str, FocusColumn] = {c.name: c for c in CONTRACT_COMMITMENT_COLUMNS}

CONTRACT_COMMITMENT_CATEGORIES: tuple[str, ...] = ("Spend", "Usage")
"""Allowed values of ContractCommitmentCategory (1.3)."""
