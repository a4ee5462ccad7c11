"""The sandbox estate: a deterministic, generated multi-cloud estate with planted waste and anomalies.

Public API::

    generate_estate(seed=42, accounts=6, days=120, end=DEFAULT_END) -> Estate
    write_estate(estate, out_dir) -> list[Path]          # FOCUS csv.gz, inventory/iam/manifest JSON, parquet
    load_estate(directory) -> Estate                     # the inverse of write_estate
    iter_cost_rows(estate, account_id, start=None, end=None) -> Iterator[tuple[str, ...]]
    utilisation_series(estate, resource_id) -> tuple[UtilisationSeries, ...]
    apply_action(estate, Action) -> ActionOutcome        # pure; carries the rollback action

Nothing here touches the network, a database or the clock.
"""

from cloudoptima.clouds.sandbox.actions import Action, ActionKind, ActionOutcome, apply_action
from cloudoptima.clouds.sandbox.billing import FOCUS_COLUMNS, daily_costs, iter_cost_rows, row_dict
from cloudoptima.clouds.sandbox.estate import BillingSegment, Estate, EstateSpec, UsageProfile
from cloudoptima.clouds.sandbox.generator import (
    DEFAULT_ACCOUNTS,
    DEFAULT_DAYS,
    DEFAULT_END,
    DEFAULT_SEED,
    generate_estate,
)
from cloudoptima.clouds.sandbox.loader import load_estate, read_cost_rows, read_utilisation
from cloudoptima.clouds.sandbox.manifest import (
    AnomalyKind,
    LookAlike,
    LookAlikeKind,
    Manifest,
    PlantedAnomaly,
    RootCause,
    WasteItem,
    WasteKind,
)
from cloudoptima.clouds.sandbox.utilisation import utilisation_arrays, utilisation_series
from cloudoptima.clouds.sandbox.writer import write_estate

__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_DAYS",
    "DEFAULT_END",
    "DEFAULT_SEED",
    "FOCUS_COLUMNS",
    "Action",
    "ActionKind",
    "ActionOutcome",
    "AnomalyKind",
    "BillingSegment",
    "Estate",
    "EstateSpec",
    "LookAlike",
    "LookAlikeKind",
    "Manifest",
    "PlantedAnomaly",
    "RootCause",
    "UsageProfile",
    "WasteItem",
    "WasteKind",
    "apply_action",
    "daily_costs",
    "generate_estate",
    "iter_cost_rows",
    "load_estate",
    "read_cost_rows",
    "read_utilisation",
    "row_dict",
    "utilisation_arrays",
    "utilisation_series",
    "write_estate",
]
