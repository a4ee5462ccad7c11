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

TEMPLATE_ALIASES = {"monthly": "monthly_cost_review"}
"""Short names ``--template`` also accepts."""
FORMAT_ALIASES = {"excel": "xlsx"}
"""The API's format names ``--format`` also accepts."""


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date as YYYY-MM-DD (got {value!r})")


def _parameters(pairs: list[str]) -> dict[str, object]:
    """``NAME=VALUE`` options as template parameters (integers and true/false typed, the rest text)."""
    parameters: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--param must be NAME=VALUE (got {pair!r})")
        typed: object = value
        if value.isdigit():
            typed = int(value)
        elif value.lower() in ("true", "false"):
            typed = value.lower() == "true"
        parameters[name.strip()] = typed
    return parameters


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
        str,
        typer.Option("--template", help="The report template (`cloudoptima report templates` lists them)."),
    ] = "monthly_cost_review",
    fmt: Annotated[
        str, typer.Option("--format", help="pdf, xlsx (or excel), csv (a zip of CSVs) or json.")
    ] = "pdf",
    start: Annotated[
        str | None,
        typer.Option("--start", help="First day YYYY-MM-DD (default: the last full calendar month)."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Day after the last, YYYY-MM-DD (exclusive).")
    ] = None,
    tag_key: Annotated[
        str | None,
        typer.Option("--tag-key", help="The rollup tag key (e.g. team) of templates that take one."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="The currency when costs are in several.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Another template parameter as NAME=VALUE (repeatable)."),
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Generate a report into --out through the same template catalog as ``POST /v1/reports/generate``
    (the monthly cost review by default: account, service, region and a tag key; this period against the
    previous one of the same length; the daily trend with the forecast band)."""
    from datetime import UTC, datetime

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cloudoptima.reports.renderers import FORMATS, render
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.report_catalog import TEMPLATES, get_template, resolve_parameters
    from cloudoptima.storage.engine import engine_from_settings

    template = TEMPLATE_ALIASES.get(template, template)
    if template not in TEMPLATES:
        fail(f"--template must be one of {', '.join(sorted(TEMPLATES))} (got {template!r})")
    fmt = FORMAT_ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    first, after = _day("--start", start), _day("--end", end)
    if (first is None) != (after is None):
        fail("give both --start and --end, or neither for the last full calendar month")
    parameters = _parameters(param or [])
    for name, value in (
        ("start_date", first),
        ("end_date", after),
        ("tag_key", tag_key),
        ("currency", currency),
    ):
        if value is not None:
            parameters[name] = value
    if not out.parent.is_dir():
        fail(f"--out: the directory {out.parent} does not exist")
    now = datetime.now(UTC)
    chosen = get_template(template)
    try:
        resolved = resolve_parameters(chosen, parameters, now)
    except ValueError as exc:
        fail(str(exc))
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
            task = progress.add_task("report", total=2, step="query and build")
            try:
                org_id = resolve_organisation(engine, org)
                with engine.connect() as connection:
                    document = chosen.build(connection, org_id, resolved, now)
            except (OrganisationNotFoundError, ValueError) as exc:
                fail(str(exc))
            progress.update(task, advance=1, step="render")
            written = write_atomically(out, lambda stream: render(document, fmt, stream))
            progress.update(task, advance=1, step="done")
    finally:
        engine.dispose()
    summary = ", ".join(
        f"{h.label.lower()} {h.value}{' ' + document.currency if h.kind == 'money' else ''}"
        for h in document.highlights[:2]
    )
    console.print(
        f"wrote {out} ({fmt}, {written:,} bytes): {template} for {document.organisation_name}, "
        f"{document.start_date} – {document.end_date} (end-exclusive){': ' + summary if summary else ''}",
        highlight=False,
    )


@report_app.command("templates")
def templates() -> None:
    """List the report templates and their parameters (as ``GET /v1/reports/templates``)."""
    from cloudoptima.services.report_catalog import TEMPLATES

    for item in TEMPLATES.values():
        console.print(f"[bold]{item.id}[/]: {item.name} — {item.description}", highlight=False)
        for parameter in item.parameters:
            required = " (required)" if parameter.required else ""
            console.print(
                f"    {parameter.name} ({parameter.type}){required}: {parameter.description}", highlight=False
            )


@report_app.command("prune")
def prune(
    state_dir: StateDir = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Prune as of this UTC time (ISO 8601, e.g. 2026-12-07T00:00:00Z); default now."
        ),
    ] = None,
) -> None:
    """Delete the files of expired generated reports (what the weekly Cleanup workflow does); their rows stay,
    so the API still lists them, without a download link (their old links answer 410)."""
    from datetime import UTC, datetime

    from cloudoptima.reports.store import ReportStore
    from cloudoptima.services.report_retention import prune_expired_artifacts
    from cloudoptima.storage.engine import engine_from_settings, session_factory

    moment = datetime.now(UTC)
    if at is not None:
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--at must be an ISO 8601 time (got {at!r})")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
    except SettingsError as exc:
        fail(str(exc))
    try:
        pruned = prune_expired_artifacts(
            session_factory(engine), ReportStore(settings.state_path / "reports"), now=moment
        )
    finally:
        engine.dispose()
    console.print(
        f"pruned {sum(pruned.values())} expired report file(s) in {len(pruned)} organisation(s)",
        highlight=False,
    )
