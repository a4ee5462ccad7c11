"""AWS region facts: the usage-type prefixes Cost Explorer and CUR use for each region.

Contract: :func:`region_of_usage_type` maps ``"USW2-BoxUsage:t3.micro"`` to ``"us-west-2"``; a usage type
without a known prefix (``"BoxUsage:t3.micro"``, ``"Requests-Tier1"``) is us-east-1, AWS's convention.
"""

from __future__ import annotations

USAGE_TYPE_PREFIX: dict[str, str] = {
    "USE1": "us-east-1",
    "USE2": "us-east-2",
    "USW1": "us-west-1",
    "USW2": "us-west-2",
    "CAN1": "ca-central-1",
    "EUW1": "eu-west-1",
    "EUW2": "eu-west-2",
    "EUW3": "eu-west-3",
    "EUC1": "eu-central-1",
    "EUC2": "eu-central-2",
    "EUN1": "eu-north-1",
    "EUS1": "eu-south-1",
    "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2",
    "APS3": "ap-south-1",
    "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2",
    "APN3": "ap-northeast-3",
    "APE1": "ap-east-1",
    "SAE1": "sa-east-1",
    "MES1": "me-south-1",
    "AFS1": "af-south-1",
}
GLOBAL_REGION = "us-east-1"


def region_of_usage_type(usage_type: str) -> str:
    """The region a usage type is billed in (prefix before the first ``-``; none means us-east-1)."""
    prefix, dash, _ = usage_type.partition("-")
    if dash and prefix in USAGE_TYPE_PREFIX:
        return USAGE_TYPE_PREFIX[prefix]
    return GLOBAL_REGION
