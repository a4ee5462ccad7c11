"""``cloudoptima report``: generate a report from the organisation's costs into a file, with a progress bar.

``report generate`` queries the same services the REST API answers with, builds the template's document and
renders it; the file is written atomically (a temporary file beside ``--out``, renamed when complete), so a
failure never leaves a half-written or stale-looking report.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, Annotated

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, err_console, fail, settings_or_fail

report_app = typer.Typer(no_args_is_help=True, help="Reports: cost reviews as PDF, Excel, CSV or JSON.")

TEMPLATES = ("monthly_cost_review",)
"""The templates ``report generate`` knows."""


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date as YYYY-MM-DD (got {value!r})")


def write_atomically(out: Path, write: Callable[[IO[bytes]], int]) -> int:
    """Call ``write(stream)`` on a temporary file beside ``out`` and rename it to ``out`` when it returns;
    on any failure the temporary file is removed and ``out`` is left as it was. Returns the bytes written."""
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            written = write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


@report_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="The file to write (replaced atomically).")],
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    template: Annotated[
        str, typer.Option("--template", help=f"The report template: {', '.join(TEMPLATES)}.")
    ] = "monthly_cost_review",
    fmt: Annotated[str, typer.Option("--format", help="pdf, xlsx, csv (a zip of CSVs) or json.")] = "pdf",
    start: Annotated[
        str | None,
        typer.Option("--start", help="First day YYYY-MM-DD (default: the last full calendar month)."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Day after the last, YYYY-MM-DD (exclusive).")
    ] = None,
    tag_key: Annotated[
        str | None, typer.Option("--tag-key", help="Add a breakdown by this rollup tag key (e.g. team).")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="The currency when costs are in several.")
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Generate a report into --out: the monthly cost review (by account, service, region and a tag
    key; this period against the previous one of the same length; the daily trend with the forecast band)."""
    from datetime import UTC, datetime

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cloudoptima.reports.renderers import FORMATS, render
    from cloudoptima.reports.templates.monthly_cost_review import build_monthly_cost_review
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.report_inputs import last_full_month, monthly_cost_review_input
    from cloudoptima.storage.engine import engine_from_settings

    if template not in TEMPLATES:
        fail(f"--template must be one of {', '.join(TEMPLATES)} (got {template!r})")
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    first, after = _day("--start", start), _day("--end", end)
    now = datetime.now(UTC)
    if first is None and after is None:
        first, after = last_full_month(now.date())
    elif first is None or after is None:
        fail("give both --start and --end, or neither for the last full calendar month")
    if not out.parent.is_dir():
        fail(f"--out: the directory {out.parent} does not exist")
    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
    except SettingsError as exc:
        fail(str(exc))
    progress = Progress(
        TextColumn("[bold]report[/] {task.fields[step]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("report", total=3, step="query")
            try:
                org_id = resolve_organisation(engine, org)
                with engine.connect() as connection:
                    data = monthly_cost_review_input(
                        connection,
                        org_id,
                        start=first,
                        end=after,
                        generated_at=now,
                        tag_key=tag_key,
                        currency=currency,
                    )
            except (OrganisationNotFoundError, ValueError) as exc:
                fail(str(exc))
            progress.update(task, advance=1, step="build")
            document = build_monthly_cost_review(data)
            progress.update(task, advance=1, step="render")
            written = write_atomically(out, lambda stream: render(document, fmt, stream))
            progress.update(task, advance=1, step="done")
    finally:
        engine.dispose()
    console.print(
        f"wrote {out} ({fmt}, {written:,} bytes): {template} for {data.organisation_name}, "
        f"{data.start_date} – {data.end_date} (end-exclusive), total {data.total_cost} {data.currency}",
        highlight=False,
    )
