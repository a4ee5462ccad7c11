"""``cloudoptima savings``: what the recommendations applied through the product really saved (#22).

Reads the same service as ``GET /v1/savings`` and ``GET /v1/savings/by-rule``
(:mod:`cloudoptima.services.realised_savings`) straight from the database (no API or worker), as of now (UTC).
``--window-days`` (1-90, default 7) is the length of the before and after windows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.table import Table

from cloudoptima.domain.savings import RuleAccuracyReport, SavingsLedger
from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail


class SavingsAnswer(BaseModel):
    """What ``--json`` prints."""

    ledger: SavingsLedger
    by_rule: RuleAccuracyReport


def savings(
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    window_days: Annotated[int, typer.Option("--window-days", help="Days of each window (1-90).")] = 7,
    limit: Annotated[int, typer.Option("--limit", help="Recommendations listed (1-500).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """The savings ledger (open, accepted with owners and overdue, applying, applied, realised), realised vs estimated per completed
    recommendation with a confidence, and per rule its mean error (flagged when systematically off)."""
    from sqlalchemy.orm import Session

    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.realised_savings import SavingsInputError, rule_accuracy, savings_ledger
    from cloudoptima.storage.engine import engine_from_settings

    settings = settings_or_fail(state_dir)
    now = datetime.now(UTC)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    try:
        with Session(engine) as session:
            answer = SavingsAnswer(
                ledger=savings_ledger(session, org_id, now, window_days=window_days, limit=limit),
                by_rule=rule_accuracy(session, org_id, now, window_days=window_days),
            )
    except SavingsInputError as exc:
        fail("--" + str(exc).replace("_", "-", 1).replace(" ", ": ", 1))
    finally:
        engine.dispose()
    if as_json:
        console.print_json(answer.model_dump_json())
        return
    for name, bucket in answer.ledger.buckets.items():
        realised = ", ".join(f"{cur} {amount}" for cur, amount in bucket.realised_monthly.items())
        owners = ", ".join(f"{email} {n}" for email, n in bucket.owners.items())
        console.print(
            f"{name}: {bucket.count} recommendations, estimated {bucket.estimated_monthly}/month"
            + (f", realised {realised}/month" if realised else "")
            + (f", owners {owners}" if owners else "")
            + (f", {bucket.overdue} overdue" if bucket.overdue else ""),
            highlight=False,
        )
    table = Table(title=f"Realised savings ({window_days}-day windows)")
    for column in ("recommendation", "rule", "status", "estimated", "realised", "error", "confidence"):
        table.add_column(column)
    for row in answer.ledger.items:
        m = row.measurement
        table.add_row(
            row.title,
            row.rule_id or "-",
            m.status.value,
            str(row.estimated_monthly or "-"),
            f"{m.currency} {m.realised_monthly}" if m.realised_monthly is not None else "-",
            f"{m.error_percent}%" if m.error_percent is not None else "-",
            m.confidence.value if m.confidence else "-",
        )
    console.print(table)
    for row in answer.ledger.items:
        m = row.measurement
        netted = []
        if m.price_effect_monthly:
            netted.append(f"price changes {m.currency} {m.price_effect_monthly}/month not counted")
        if m.replacement_ids:
            netted.append(
                f"counts {', '.join(m.replacement_ids)} ({m.currency} {m.replacement_monthly}/month) it kept"
            )
        if netted:
            console.print(f"netted: {row.title}: {'; '.join(netted)}", highlight=False, soft_wrap=True)
    for rule in answer.by_rule.rules:
        if rule.flagged:
            console.print(
                f"rule {rule.rule_id}: estimates off by {rule.mean_error_percent}% on average "
                f"over {rule.measured} measured changes",
                highlight=False,
            )
