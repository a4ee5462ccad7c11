"""What every command shares: the consoles, the one-line failure, settings loading and the ``--state-dir``
option, and the ``cost_updates`` announcement after data changed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from cloudoptima.settings import Settings, SettingsError, load_settings

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", help="State directory (default ./.cloudoptima or CLOUDOPTIMA_STATE_DIR)."),
]


def fail(message: str) -> NoReturn:
    """Print one clear line and exit 1 (no traceback for errors a person can act on)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


def settings_or_fail(state_dir: Path | None, **overrides: Any) -> Settings:
    """Settings for ``state_dir`` with the given overrides; an invalid value fails with its first line."""
    try:
        return load_settings(state_dir=state_dir, **overrides)
    except ValidationError as exc:  # the first problem, naming its setting (not pydantic's header line)
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"{where}: {first['msg']}" if where else str(first["msg"]).removeprefix("Value error, "))
    except (SettingsError, ValueError) as exc:
        fail(str(exc).splitlines()[0])


def announce_costs(settings: Settings, organization_id: Any, data: dict[str, Any]) -> None:
    """Publish ``cost_updates`` (invalidates cached cost answers, refreshes WebSocket clients) when Redis is
    reachable; a CLI run without a platform has no cache to invalidate."""
    from cloudoptima.services.events import EventPublisher

    try:
        publisher = EventPublisher.from_url(settings.resolved_redis_url())
    except SettingsError:
        return
    try:
        publisher.publish(organization_id, "cost_updates", data)
    except Exception as exc:
        err_console.print(
            f"[yellow]note:[/] could not notify the platform through Redis ({exc})", highlight=False
        )
    finally:
        publisher.close()
