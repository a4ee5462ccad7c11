"""``python -m evals [--json] [--seeds 11 2024 ...]``: run every evaluation, print a table or JSON.

Exit status 1 when a floor does not hold (``cloudoptima eval`` execs this module).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.datasets import DEFAULT_SEEDS
from evals.runner import run_all


def _table(results: dict[str, Any]) -> Table:
    table = Table(title="CloudOptima evals")
    for column in (
        "case",
        "rec P",
        "rec R",
        "crit FP",
        "savings MAPE %",
        "anom P",
        "anom R",
        "RC top1",
        "RC top3",
        "MASE",
        "cov95",
    ):
        table.add_column(column, justify="right" if column != "case" else "left")
    rows = [(name, c) for name, c in results["cases"].items()]
    aggregate = {
        "recommendations": results["recommendations"]["aggregate"],
        "anomalies": results["anomalies"]["aggregate"],
        "forecast": results["forecast"]["sandbox"],
    }
    for name, case in [*rows, ("ALL", aggregate)]:
        r, a, f = case["recommendations"], case["anomalies"], case["forecast"]
        table.add_row(
            name,
            f"{r['precision']:.3f}",
            f"{r['recall']:.3f}",
            str(r["critical_false_positives"]),
            f"{r['savings_mape_percent']:.2f}",
            f"{a['precision']:.3f}",
            f"{a['recall']:.3f}",
            f"{a['root_cause_top1']:.3f}",
            f"{a['root_cause_top3']:.3f}",
            f"{f['mase']:.3f}",
            f"{f['coverage_95']:.3f}",
        )
    if "prophet_example" in results["forecast"]:
        p = results["forecast"]["prophet_example"]
        table.add_row("prophet example", *([""] * 8), f"{p['mase']:.3f}", f"{p['coverage_95']:.3f}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--no-prophet-example", action="store_true", help="skip the real example series")
    args = parser.parse_args(argv)
    results = run_all(args.seeds, include_prophet=not args.no_prophet_example)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        console = Console()
        console.print(_table(results))
        for failure in results["failures"]:
            console.print(f"[red]floor failed:[/red] {failure}")
        console.print(f"elapsed {results['elapsed_s']} s")
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
