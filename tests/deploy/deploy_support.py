"""What the deployment tests share: the repository's paths, Compose-style variable interpolation, a production
environment filled with well-formed throwaway secrets, and the paths the real gateway app serves."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import typer.main
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class InterpolationError(ValueError):
    """A required ``${VAR:?message}`` is unset: the message names the variable as Compose would."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation of ``$$``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` and
    ``${VAR:?error}`` (the forms docker-compose.yml uses); an unset required variable raises."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is None:
            return "$"
        op, arg, value = match.group("op"), match.group("arg") or "", env.get(name)
        if op in (":-", ":?") and not value:
            value = None
        if value is not None:
            return value
        if op in (":?", "?"):
            raise InterpolationError(f"required variable {name} is missing a value: {arg}")
        return arg if op in (":-", "-") else ""

    return _VARIABLE.sub(replace, text)


def interpolate_tree(value: Any, env: Mapping[str, str]) -> Any:
    """Interpolate every string of a parsed Compose file, as Compose does (after parsing, value by value)."""
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, dict):
        return {key: interpolate_tree(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate_tree(item, env) for item in value]
    return value


def throwaway_secrets() -> dict[str, str]:
    """Well-formed values for every secret the deployment files ask for (never committed anywhere)."""
    return {
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "CLOUDOPTIMA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "GRAFANA_ADMIN_PASSWORD": secrets.token_hex(12),
    }


def yaml_documents(text: str, origin: str) -> list[dict[str, Any]]:
    """Every non-empty YAML document of ``text``; a parse error names ``origin`` and the line."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise AssertionError(f"{origin}: {exc}") from exc
    return [doc for doc in documents if doc is not None]


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of the file ``path``."""
    return yaml_documents(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


@cache
def gateway_paths() -> frozenset[str]:
    """The GET paths of the deployed gateway app (``cloudoptima_gateway.main.build_app``)."""
    from cloudoptima.settings import Settings
    from cloudoptima_gateway.main import build_app
    from cloudoptima_gateway.route_table import api_routes

    settings = Settings(
        mode="production",
        database_url="postgresql+psycopg://probe:probe@db.invalid:5432/probe",
        redis_url="redis://redis.invalid:6379/0",
        temporal_address="temporal.invalid:7233",
        jwt_secret=secrets.token_urlsafe(48),
        encryption_key=Fernet.generate_key().decode(),
    )
    app = build_app(settings)
    return frozenset(entry.path for entry in api_routes(app.routes) if "GET" in entry.methods)


def cli_commands() -> dict[str, set[str]]:
    """The ``cloudoptima`` command tree: each top-level command or group by the name a user types, with the
    names of its subcommands (empty for a plain command)."""
    from cloudoptima_cli.app import app

    tree = typer.main.get_command(app)
    return {
        name: set(getattr(command, "commands", {})) for name, command in getattr(tree, "commands", {}).items()
    }
