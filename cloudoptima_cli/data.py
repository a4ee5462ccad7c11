"""``cloudoptima data reconcile``: can the cost numbers be believed (#21)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

data_app = typer.Typer(no_args_is_help=True, help="Cost-data trust: reconciliation and freshness.")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _month(value: str | None, now: datetime) -> date:
    if value is None:
        return (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    match = _MONTH.match(value)
    if match is None or not 1970 <= int(match.group(1)) <= 9000:
        fail(f"--month must be YYYY-MM, got {value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _money(value: Decimal | None) -> str:
    """Rounded to 4 places for the table (``--json`` keeps every digit)."""
    return "-" if value is None else str(value.quantize(Decimal("0.0001")))


@data_app.command()
def reconcile(
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    month: Annotated[
        str | None, typer.Option("--month", help="Billing month YYYY-MM (default: last month).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Per account: our total vs the provider's, delta, status, dropped or missing days and duplicated files
    (and why a provider total is missing), with the organisation's trust settings.

    Exits 2 when any account is a mismatch (for scripts and CI), else 0."""
    from sqlalchemy.orm import Session

    from cloudoptima.services.data_trust.service import reconcile_month
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.storage.engine import engine_from_settings

    settings = settings_or_fail(state_dir)
    now = datetime.now(UTC)
    first = _month(month, now)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    with Session(engine) as session:
        report = reconcile_month(session, org_id, first, now)
    engine.dispose()
    if as_json:
        console.print_json(report.model_dump_json())
    else:
        table = Table(title=f"Reconciliation {report.month} (billed basis)")
        for column in ("account", "currency", "ours", "provider", "delta", "status"):
            table.add_column(column, no_wrap=column == "status")
        for item in report.accounts:
            table.add_row(
                f"{item.account.provider} {item.account.billing_account_id}",
                item.currency,
                _money(item.our_total),
                _money(item.provider_total),
                _money(item.delta),
                item.status,
            )
        console.print(table)
        for item in report.accounts:
            name = f"{item.account.provider} {item.account.billing_account_id}"
            for finding in item.findings:
                console.print(f"{name}: {finding.message}", soft_wrap=True, highlight=False)
            if item.unavailable_reason:
                console.print(
                    f"{name}: no provider total: {item.unavailable_reason}", soft_wrap=True, highlight=False
                )
    if any(item.status == "mismatch" for item in report.accounts):
        raise typer.Exit(2)
