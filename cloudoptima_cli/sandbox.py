"""``cloudoptima sandbox``: the generated sandbox estate, written to files or loaded into an organisation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, announce_costs, console, fail, settings_or_fail

sandbox_app = typer.Typer(no_args_is_help=True, help="The generated sandbox estate.")


@sandbox_app.command("generate")
def sandbox_generate(
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same estate.")] = 42,
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, help="Accounts (round-robin AWS, Azure, GCP).")
    ] = 6,
    days: Annotated[int, typer.Option("--days", min=1, max=1100, help="Days of history.")] = 120,
    end: Annotated[
        str | None, typer.Option("--end", help="First day after the window (YYYY-MM-DD); default 2026-01-01.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write FOCUS files, inventory, utilisation, manifest.")
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Load into this organisation (id or name) instead.")
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Generate a deterministic multi-cloud estate with planted waste and anomalies (ground truth in manifest.json)."""
    import tempfile
    from datetime import date

    if (out is None) == (org is None):
        fail("pass exactly one of --out DIR or --org ORG")
    try:
        end_day = date.fromisoformat(end) if end else None
    except ValueError:
        fail(f"--end must be a date YYYY-MM-DD, got {end!r}")
    from cloudoptima.services.sandbox_loading import generate_to

    started = time.monotonic()
    target = out if out is not None else Path(tempfile.mkdtemp(prefix="cloudoptima-sandbox-"))
    estate = generate_to(target, seed, accounts, days, end_day)
    manifest = estate.manifest
    console.print(
        f"generated {len(estate.accounts)} accounts, {len(estate.resources)} resources, "
        f"{len(manifest.waste)} waste items, {len(manifest.anomalies)} anomalies in {time.monotonic() - started:.1f} s"
    )
    if out is not None:
        console.print(f"wrote {out} (ground truth: {out / 'manifest.json'})")
        return
    assert org is not None
    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.sandbox_loading import load_sandbox
    from cloudoptima.storage.engine import engine_from_settings

    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
        keep = settings.state_path / "sandboxes" / f"seed{seed}-a{accounts}-d{days}-{end or 'default'}"
        if keep.exists():
            import shutil

            shutil.rmtree(keep)
        keep.parent.mkdir(parents=True, exist_ok=True)
        target.rename(keep)
        report = load_sandbox(
            engine,
            CredentialCipher(settings.resolved_encryption_keys),
            org_id,
            keep,
            window_days=settings.utilisation_window_days,
        )
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    announce_costs(settings, org_id, {"source": "sandbox", "accounts": len(report.accounts)})
    console.print(
        f"loaded into {org}: {len(report.accounts)} accounts, {report.cost_rows:,} cost rows "
        f"(billed {report.billed_total}), {report.resources} resources"
    )
