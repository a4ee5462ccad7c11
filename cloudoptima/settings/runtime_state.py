"""Service URLs of the running embedded platform: ``<state_dir>/runtime.json``, written by ``cloudoptima up``.

A URL given in the environment always wins; without one, the running platform's is used; without either,
the error names the variable to set and the command that starts a platform.
"""

from __future__ import annotations

import json
from pathlib import Path

from cloudoptima.settings.errors import SettingsError


def read_runtime(path: Path) -> dict[str, str]:
    """The string and integer values of the runtime file (empty when no platform wrote one)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(
            f"state file {path} is unreadable ({exc}); remove it and run `cloudoptima up`"
        ) from exc
    if not isinstance(data, dict):
        raise SettingsError(f"state file {path} is not a JSON object; remove it and run `cloudoptima up`")
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str | int)}


def service_url(given: str | None, runtime_file: Path, state_path: Path, key: str, variable: str) -> str:
    """``given`` when set, else the running platform's ``key``; the runtime file is read only when needed."""
    if given:
        return given
    found = read_runtime(runtime_file).get(key)
    if found:
        return found
    raise SettingsError(
        f"{variable} is not set and no running platform was found in {state_path} "
        f"(start one with `cloudoptima up` or set {variable})"
    )
