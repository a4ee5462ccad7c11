"""Billing file formats: detection from the header and the columns each format requires.

Contract:
- ``detect_format(header, file)`` returns the ``BillingFormat`` of a header or raises ``BillingFileError``
  naming the file when no known format matches (an OCI *usage* report, which has no cost, is named as such;
  so is a FOCUS 1.3 Contract Commitment file, see ``contract_commitment``).
- ``check_required(fmt, header, file)`` raises ``BillingFileError`` naming the file and the first missing
  column when a required column is absent, and returns the FOCUS version (FOCUS files) or None.
  An OpenCost allocation export (``cloudoptima.ingest.opencost``) is recognised by Namespace + TotalCost +
  Date/WindowStart; its reader checks its header itself.
  FOCUS files need the Mandatory columns of their detected version (1.0, 1.1, 1.2 or 1.3, by the newest
  FOCUS column present; see ``focus_versions``); native files need the columns that carry money, currency and time.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from cloudoptima.ingest.errors import BillingFileError
from cloudoptima.ingest.focus_versions import detect_focus_version, missing_mandatory
from cloudoptima.ingest.mappers.focus import REQUIRED_MARKERS
from cloudoptima.ingest.opencost import is_opencost_header
from cloudoptima.ingest.source_columns import column_key


class BillingFormat(StrEnum):
    """Source formats understood by ``open_billing_source``."""

    FOCUS = "focus"
    AWS_CUR = "aws_cur"
    AWS_CUR2 = "aws_cur2"
    AZURE = "azure"
    GCP = "gcp"
    OCI = "oci"
    OPENCOST = "opencost"


_NATIVE_REQUIRED: dict[BillingFormat, tuple[tuple[str, ...], ...]] = {
    BillingFormat.AWS_CUR: (
        ("lineItem/UnblendedCost",),
        ("lineItem/CurrencyCode",),
        ("lineItem/UsageStartDate",),
        ("lineItem/UsageEndDate",),
    ),
    BillingFormat.AZURE: (
        ("CostInBillingCurrency", "Cost", "PreTaxCost"),
        ("BillingCurrencyCode", "BillingCurrency", "Currency"),
        ("Date", "UsageDateTime"),
    ),
    BillingFormat.GCP: (("cost",), ("currency",), ("usage_start_time",), ("usage_end_time",)),
    BillingFormat.OCI: (
        ("cost/myCost",),
        ("cost/currencyCode",),
        ("lineItem/intervalUsageStart",),
        ("lineItem/intervalUsageEnd",),
    ),
}
_NATIVE_REQUIRED[BillingFormat.AWS_CUR2] = _NATIVE_REQUIRED[BillingFormat.AWS_CUR]


def detect_format(header: Sequence[str], file: str) -> BillingFormat:
    """The format of a file with this header (see module docstring)."""
    keys = {column_key(name) for name in header}
    if keys >= REQUIRED_MARKERS:
        return BillingFormat.FOCUS
    if {"contractcommitmentid", "contractcommitmentcategory"} <= keys:
        raise BillingFileError(
            file,
            "FOCUS 1.3 Contract Commitment dataset: it holds contract terms, not cost rows; "
            "read it with cloudoptima.ingest.contract_commitment",
            line=1,
        )
    if "lineitemunblendedcost" in keys:
        return BillingFormat.AWS_CUR if any("/" in name for name in header) else BillingFormat.AWS_CUR2
    if "lineitemintervalusagestart" in keys:
        if "costmycost" in keys:
            return BillingFormat.OCI
        raise BillingFileError(
            file, "OCI usage report has no cost columns; ingest the OCI cost report instead", line=1
        )
    if is_opencost_header(header):
        return BillingFormat.OPENCOST
    if {"billingaccountid", "cost", "usagestarttime", "servicedescription"} <= keys:
        return BillingFormat.GCP
    if keys & {"costinbillingcurrency", "pretaxcost"} or {"cost", "metercategory"} <= keys:
        return BillingFormat.AZURE
    raise BillingFileError(
        file,
        "unknown billing format: header matches none of FOCUS, AWS CUR (v1/2.0), Azure cost export, "
        f"GCP billing export, OCI cost report or OpenCost allocation export (first columns: {', '.join(header[:5])})",
        line=1,
    )


def check_required(fmt: BillingFormat, header: Sequence[str], file: str) -> str | None:
    """Raise for a missing required column; return the FOCUS version of FOCUS files."""
    if fmt is BillingFormat.FOCUS:
        version = detect_focus_version(header)
        missing = missing_mandatory(version, header)
        if missing:
            raise BillingFileError(
                file,
                f"missing mandatory FOCUS {version} column(s): {', '.join(missing)}",
                line=1,
                column=missing[0],
            )
        return version
    if fmt is BillingFormat.OPENCOST:
        return None  # the OpenCost reader checks its own header (cloudoptima.ingest.opencost)
    keys = {column_key(name) for name in header}
    for alternatives in _NATIVE_REQUIRED[fmt]:
        if not any(column_key(name) in keys for name in alternatives):
            raise BillingFileError(
                file,
                f"missing required {fmt.value} column {' or '.join(alternatives)}",
                line=1,
                column=alternatives[0],
            )
    return None
