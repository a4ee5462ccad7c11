"""The command tree of ``cloudoptima``, in the order ``--help`` lists it: top-level commands first, then the
command groups. Each command lives in the module of its group; this module only wires them."""

from __future__ import annotations

import typer

from cloudoptima_cli import (
    app_processes,
    backup,
    collect,
    commitments,
    export,
    ingest,
    savings,
    series,
    tickets,
    up,
)
from cloudoptima_cli.data import data_app
from cloudoptima_cli.db import db_app
from cloudoptima_cli.keys import secrets_app
from cloudoptima_cli.maintenance import maintenance_app
from cloudoptima_cli.prices import prices_app
from cloudoptima_cli.recommendations import recommendations_app
from cloudoptima_cli.report import report_app
from cloudoptima_cli.sandbox import sandbox_app
from cloudoptima_cli.users import users_app

PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
"""Commands whose unknown options go to the app process they become (its own parser checks them)."""

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="CloudOptima: multi-cloud FinOps platform."
)
app.add_typer(db_app, name="db")
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(prices_app, name="prices")
app.add_typer(secrets_app, name="secrets")
app.command()(up.up)
app.command()(up.status)
app.command(context_settings=PASS_THROUGH)(app_processes.worker)
app.command()(app_processes.gateway)
app.command()(ingest.ingest)
app.command()(export.export)
app.command()(commitments.commitments)
app.command()(savings.savings)
app.command("tickets-sync")(tickets.tickets_sync)
app.command()(series.forecast)
app.command()(series.anomalies)
app.command("eval", context_settings=PASS_THROUGH)(app_processes.run_eval)
app.command()(collect.collect)
app.command()(backup.backup)
app.command()(backup.restore)
app.command()(app_processes.mcp)
app.add_typer(users_app, name="users")
app.add_typer(recommendations_app, name="recommendations")
app.add_typer(report_app, name="report")
app.add_typer(data_app, name="data")


def main() -> None:
    """Console-script entry point."""
    app()
