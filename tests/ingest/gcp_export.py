"""A small GCP billing export with committed use discount rows, written by tests that need one (#22)."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def write_gcp_commitment_export(path: Path) -> Path:
    """A three-row GCP billing export (the flattened BigQuery columns of the koku fixtures): a resource-based
    commitment's fee, usage with a committed use discount credit, and usage with a free-tier credit."""
    header = [
        "billing_account_id",
        "service.description",
        "sku.id",
        "sku.description",
        "usage_start_time",
        "usage_end_time",
        "project.id",
        "cost",
        "currency",
        "usage.amount",
        "usage.unit",
        "credits",
        "invoice.month",
        "cost_type",
    ]

    def credit(kind: str, name: str, amount: str) -> str:
        return json.dumps(
            [{"name": name, "amount": float(amount), "full_name": name, "id": "", "type": kind}]
        )

    common = ["01ABCD-234567-89EFGH", "Compute Engine"]
    hour = ["2024-03-05 10:00:00+00:00", "2024-03-05 11:00:00+00:00", "demo-project"]
    rows = [
        [
            *common,
            "A1B2-C3D4-E5F6",
            "Commitment v1: Cpu in Americas for 1 Year",
            *hour,
            "10.00",
            "USD",
            "3600",
            "seconds",
            "[]",
            "202403",
            "regular",
        ],
        [
            *common,
            "2E27-4F75-95CD",
            "N1 Predefined Instance Core running in Americas",
            *hour,
            "4.00",
            "USD",
            "3600",
            "seconds",
            credit("COMMITTED_USAGE_DISCOUNT", "Committed use discount: CPU", "-3.0"),
            "202403",
            "regular",
        ],
        [
            *common,
            "2E27-4F75-95CD",
            "N1 Predefined Instance Core running in Americas",
            *hour,
            "1.00",
            "USD",
            "900",
            "seconds",
            credit("FREE_TIER", "Free tier", "-0.5"),
            "202403",
            "regular",
        ],
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
