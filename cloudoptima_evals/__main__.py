"""``python -m evals [--json] [--seeds 11 2024 ... | --seeds 1,2,3,7]``: run every evaluation, print a table or JSON.

``--live [--cloud aws|azure|gcp ...]`` runs the live-path evals instead (``cloudoptima_evals/live_aws.py``,
``live_azure.py``, ``live_gcp.py``: estates in moto and the strict fakes, connected over REST, collected by
the real connectors, scored by ``cloudoptima_evals/live_scoring.py``) on their own temporary database, one table.
The M4 weekly forecasting eval (``cloudoptima_evals/m4.py``: naive, seasonal naive, Theta-like and the product, sMAPE,
MASE and 95 % coverage over rolling origins) runs too, on the 60-series subset in the repository unless
``--m4-dir`` names the full set (``--no-m4`` skips it).
``--narratives [--provider offline|configured|anthropic|openai]`` runs the narrative faithfulness eval
instead (every number, id and date in an explanation or narrative must be in its evidence): offline by
default (floor 100%), or against the model the settings select when a key is set.
``--realised-savings`` runs the realised-savings eval instead (``cloudoptima_evals/realised_savings.py``:
recommendations applied to live sandbox estates of the given seeds, measured from the bill vs the true saving).
``--live-savings`` runs the live realised-savings eval instead (``cloudoptima_evals/live_savings.py``: an AWS
estate in moto and its FOCUS bill written apart from the product, changes applied by hand, ``GET /v1/savings``
against the truth of the bill), one table.
Exit status 1 when a floor does not hold (``cloudoptima eval`` execs this module).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cloudoptima_evals.datasets import DEFAULT_SEEDS
from cloudoptima_evals.live import CLOUDS as LIVE_CLOUDS
from cloudoptima_evals.m4 import M4_SUBSET, M4FormatError, load_m4, m4_failures, score_m4
from cloudoptima_evals.realised_savings import run_realised_savings
from cloudoptima_evals.runner import run_all


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


def _nab_table(nab: dict[str, Any]) -> Table:
    table = Table(
        title=f"NAB standard profile, dev split ({nab['files']} files, {nab['windows']} windows)",
        caption=(
            f"NAB's own windowed Gaussian reproduces its published per-file scores on "
            f"{nab['published_windowed_gaussian_files_reproduced']} of {nab['files']} files; "
            f"product / best baseline = {nab['aggregate']['over_best_baseline']}"
        ),
    )
    for column in ("detector", "score", "TP", "FP", "FN"):
        table.add_column(column, justify="left" if column == "detector" else "right")
    for name, row in nab["detectors"].items():
        table.add_row(
            name,
            f"{row['score']:.2f}",
            str(row["true_positives"]),
            str(row["false_positives"]),
            str(row["false_negatives"]),
        )
    return table


def _m4_table(m4: dict[str, Any]) -> Table:
    table = Table(
        title=f"M4 weekly ({m4['series']} series, h={m4['horizon']}, {m4['rolling_origins']} rolling origins)"
    )
    for column in ("method", "sMAPE", "MASE", "cov95"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, row in m4["methods"].items():
        cover = "" if row["coverage_95"] is None else f"{row['coverage_95']:.3f}"
        table.add_row(name, f"{row['smape']:.3f}", f"{row['mase']:.3f}", cover)
    return table


def _narratives(provider: str, seeds: list[int], limit: int, *, as_json: bool) -> int:
    from cloudoptima_evals.narratives import run_narrative_eval

    try:
        results = run_narrative_eval(provider, seeds=seeds, limit=limit)
    except Exception as exc:  # e.g. no key for the chosen provider: say so, do not print a traceback
        print(f"narrative eval could not run: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(results, indent=2, default=str))
        return 0 if results["passed"] else 1
    table = Table(title=f"Narrative faithfulness ({results['provider']})")
    for column in ("kind", "texts", "faithful", "faithfulness", "sources"):
        table.add_column(column, justify="left" if column in ("kind", "sources") else "right")
    for kind in ("root_cause", "narrative"):
        bucket = results[kind]
        share = "n/a" if bucket["faithfulness"] is None else f"{bucket['faithfulness']:.3f}"
        sources = ", ".join(f"{k}={v}" for k, v in sorted(bucket["sources"].items()))
        table.add_row(kind, str(bucket["count"]), str(bucket["faithful"]), share, sources)
    console = Console()
    console.print(table)
    for kind in ("root_cause", "narrative"):
        for failure in results[kind]["failures"][:10]:
            console.print(f"[red]{kind} unfaithful:[/red] {failure}")
    floor = results["floor"]
    console.print(
        f"floor {floor if floor is not None else 'none (a real model)'}; passed {results['passed']}"
    )
    console.print(f"elapsed {results['elapsed_seconds']} s")
    return 0 if results["passed"] else 1


def _live(clouds: list[str], *, as_json: bool) -> int:
    from cloudoptima_evals.live import run_standalone

    try:
        results = run_standalone(clouds)
    except RuntimeError as exc:
        print(f"live eval could not run: {exc}", file=sys.stderr)
        return 2
    failed = any(result["failures"] for result in results.values())
    if as_json:
        print(json.dumps(results, indent=2, default=str))
        return 1 if failed else 0
    console = Console(width=max(Console().width, 110))
    table = Table(title="Live-path eval (estates in moto / strict fakes, REST connect, real connectors)")
    columns = ("cloud", "planted", "found", "recall", "prec.", "crit FP", "save err %", "max err %",
               "1st analysis", "costed", "s")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "cloud" else "right")
    for cloud, result in results.items():
        table.add_row(
            cloud,
            str(result["planted"]),
            str(result["found"]),
            f"{result['recall']:.3f}",
            f"{result['precision']:.3f}",
            str(result["critical_false_positives"]),
            f"{result['savings_mape_percent']:.2f}",
            f"{result['savings_max_error_percent']:.2f}",
            "all found" if result["first_analysis_found_all"] else "missed some",
            f"{len(result['costed'])}/{result['resources']}",
            f"{result['elapsed_s']:.0f}",
        )
    console.print(table)
    for cloud, result in results.items():
        for forecast in result.get("forecasts", []):
            console.print(
                f"{cloud} next {forecast['days']} days: the cloud's forecast ({forecast['source']}) "
                f"{forecast['provider_total']:.2f}, ours {forecast['ours_total']:.2f} "
                f"[{forecast['ours_lower']:.2f}, {forecast['ours_upper']:.2f}] "
                + (
                    f"({forecast['difference_percent']:+.2f} %)"
                    if forecast["difference_percent"] is not None
                    else ""
                )
                if forecast["ours_total"] is not None
                else f"{cloud}: the cloud's forecast {forecast['provider_total']:.2f}; ours has no history"
            )
        if not result.get("forecasts"):
            console.print(f"{cloud}: the cloud offers no forecast of this account")
        for line in result["spurious"]:
            console.print(f"{cloud} spurious: {line}")
        for line in result["failures"]:
            console.print(f"[red]{cloud} floor failed:[/red] {line}")
    return 1 if failed else 0


def _seeds(text: str) -> list[int]:
    """One ``--seeds`` token: a seed or a comma-separated list of seeds."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"seeds must be integers, got {text!r}") from exc


def _realised_savings(seeds: list[int], *, as_json: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="cloudoptima-realised-") as state:
        results = run_realised_savings(Path(state), seeds)
    if as_json:
        print(json.dumps(results, indent=2, default=str))
    else:
        console = Console()
        console.print(
            f"realised savings: {results['measured']} measured, {results['refused']} refused; "
            f"MAE {results['mae']}, MAPE {results['mape_percent']} % (estimates vs truth "
            f"{results['estimate_mape_percent']} %); floors {results['floors']}; {results['elapsed_s']} s"
        )
        for failure in results["failures"]:
            console.print(f"[red]floor failed:[/red] {failure}")
    return 1 if results["failures"] else 0


def _live_savings(*, as_json: bool) -> int:
    from importlib import import_module

    try:  # imported on demand, as the live evals are: it pulls in moto and boto3 (dev dependencies)
        result: dict[str, Any] = import_module("cloudoptima_evals.live_savings").run_standalone()
    except RuntimeError as exc:
        print(f"live savings eval could not run: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return 1 if result["failures"] else 0
    table = Table(
        title=f"Live realised savings (AWS in moto, FOCUS bill): {result['measured']}/{result['applied']} measured, "
        f"MAPE {result['mape_percent']} %, MAE ${result['mae_usd_month']}/month, {result['elapsed_s']:.0f} s"
    )
    for column in ("item", "action", "status", "change day", "truth $/mo", "realised $/mo", "err %"):
        table.add_column(column, justify="left" if column in ("item", "action", "status") else "right")
    for item in result["items"]:
        error = item.get("error_percent")
        table.add_row(item["item"], item["action"], item["status"], str(item["change_day"] or ""),
                      item["truth_monthly"], str(item["realised_monthly"] or ""),
                      "" if error is None else f"{error:.2f}")  # fmt: skip
    console = Console(width=max(Console().width, 110))
    console.print(table)
    for line in result["failures"]:
        console.print(f"[red]floor failed:[/red] {line}")
    return 1 if result["failures"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--seeds",
        type=_seeds,
        nargs="+",
        default=[list(DEFAULT_SEEDS)],
        help="estate seeds, space- or comma-separated (default: the CI seeds %(default)s)",
    )
    parser.add_argument("--no-prophet-example", action="store_true", help="skip the real example series")
    parser.add_argument(
        "--narratives", action="store_true", help="run the narrative faithfulness eval instead"
    )
    parser.add_argument(
        "--provider",
        choices=["offline", "configured", "anthropic", "openai"],
        default="offline",
        help="who writes the narratives (with --narratives); 'configured' = the model the settings select",
    )
    parser.add_argument("--limit", type=int, default=40, help="texts per kind and seed (with --narratives)")
    parser.add_argument(
        "--live",
        action="store_true",
        help="run the live-path evals instead: AWS (moto), Azure and GCP (strict fakes) estates connected over "
        "REST and collected by the real connectors (own temporary Postgres and Redis; needs the dev "
        "dependencies)",
    )
    parser.add_argument(
        "--cloud",
        action="append",
        choices=list(LIVE_CLOUDS),
        help="with --live: only this cloud (repeatable; default all three)",
    )
    parser.add_argument(
        "--m4-dir",
        type=Path,
        default=M4_SUBSET,
        help="folder with M4's Weekly-train.csv and Weekly-test.csv (default: the 60-series subset in the "
        "repository; point it at the full 359 series)",
    )
    parser.add_argument("--m4-origins", type=int, default=3, help="rolling origins of the M4 eval")
    parser.add_argument("--no-m4", action="store_true", help="skip the M4 weekly forecasting eval")
    parser.add_argument(
        "--realised-savings", action="store_true", help="run the realised-savings eval instead"
    )
    parser.add_argument(
        "--live-savings",
        action="store_true",
        help="run the live realised-savings eval instead (an AWS estate in moto and its FOCUS bill, changes "
        "applied by hand; own temporary Postgres and Redis; needs the dev dependencies)",
    )
    args = parser.parse_args(argv)
    if args.live_savings:
        return _live_savings(as_json=args.json)
    if args.live:
        return _live(args.cloud or list(LIVE_CLOUDS), as_json=args.json)
    seeds = list(dict.fromkeys(seed for group in args.seeds for seed in group))
    if args.narratives:
        return _narratives(args.provider, seeds, args.limit, as_json=args.json)
    if args.realised_savings:
        return _realised_savings(seeds, as_json=args.json)
    results = run_all(seeds, include_prophet=not args.no_prophet_example)
    if not args.no_m4:
        try:
            results["m4"] = score_m4(load_m4(args.m4_dir), rolling_origins=args.m4_origins)
        except M4FormatError as exc:
            print(f"M4 eval: {exc}", file=sys.stderr)
            return 2
        results["failures"] += m4_failures(results["m4"])
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        console = Console()
        console.print(_table(results))
        console.print(_nab_table(results["nab"]))
        if "m4" in results:
            console.print(_m4_table(results["m4"]))
        for failure in results["failures"]:
            console.print(f"[red]floor failed:[/red] {failure}")
        console.print(f"elapsed {results['elapsed_s']} s")
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
