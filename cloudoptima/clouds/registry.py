"""Provider registry: build the :class:`CloudProviderClient` of one connected account (a ``cloud_accounts`` row).

Contract:

- ``ProviderRegistry(cipher).for_account(row)`` decrypts ``row.credentials_encrypted`` with the
  :class:`~cloudoptima.security.encryption.CredentialCipher` and passes the credentials and ``row.settings``
  to the implementation named by ``row.provider`` (``aws``, ``azure``, ``gcp``).
- A row whose settings carry ``sandbox`` (``{"estate_dir" | "state_dir", "account_id", ...}``) is a sandbox
  account, whatever cloud it imitates: it gets a :class:`SandboxProvider` over that estate. ``state_dir`` is a
  ``SandboxEstateStore`` directory; ``estate_dir`` may be the store's ``estate/`` folder, a store directory,
  or a plain folder written by ``write_estate`` (then it is adopted once into a living store next to it,
  ``<estate_dir>.store``, regenerated from the same spec, so actions can be journalled). Optional fault
  injection keys are passed through: ``denied_permissions``, ``fail_regions``, ``throttle_first_n``.
- Implementations are named by ``module:Class`` and imported on first use (``importlib``): importing the
  registry loads no cloud SDK, so kernel services may use it (``services -> clouds.registry`` stays free of
  boto3/azure/google in the import graph) while the SDKs are still imported only by code inside
  ``cloudoptima.clouds``.
- Anything wrong with the stored credentials or settings (undecryptable, incomplete, unknown provider,
  missing estate) raises :class:`CredentialsError`: the account cannot be used until a human fixes it.
- Secrets never appear in errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError
from cloudoptima.security.encryption import CredentialCipher, CredentialDecryptionError

Clock = Callable[[], datetime]
Builder = Callable[[dict[str, Any], dict[str, Any]], CloudProviderClient]

SANDBOX_KEY = "sandbox"
STORE_SUFFIX = ".store"


class AccountRow(Protocol):
    """What the registry reads of a ``cloud_accounts`` row (the ORM model satisfies it)."""

    @property
    def provider(self) -> str: ...

    @property
    def account_identifier(self) -> str: ...

    @property
    def credentials_encrypted(self) -> str: ...

    @property
    def settings(self) -> dict[str, Any]: ...


LIVE_IMPLEMENTATIONS: dict[str, str] = {
    "aws": "cloudoptima.clouds.aws.provider:AwsProvider",
    "azure": "cloudoptima.clouds.azure.provider:AzureProvider",
    "gcp": "cloudoptima.clouds.gcp.provider:GcpProvider",
}
"""Live implementations by ``cloud_accounts.provider``, as ``module:Class`` (each takes credentials, settings)."""
SANDBOX_IMPLEMENTATION = "cloudoptima.clouds.sandbox.provider:SandboxProvider"


def load_implementation(path: str) -> Callable[..., CloudProviderClient]:
    """The class named by ``module:Class``, imported now (importing the registry imports no cloud SDK)."""
    module_name, _, class_name = path.partition(":")
    implementation: Callable[..., CloudProviderClient] = getattr(import_module(module_name), class_name)
    return implementation


def _live_builder(path: str) -> Builder:
    def build(credentials: dict[str, Any], settings: dict[str, Any]) -> CloudProviderClient:
        return load_implementation(path)(credentials, settings)

    return build


BUILDERS: dict[str, Builder] = {name: _live_builder(path) for name, path in LIVE_IMPLEMENTATIONS.items()}

_ADOPT_LOCK = threading.Lock()


def is_sandbox(settings: Mapping[str, Any] | None) -> bool:
    """True when an account's settings mark it as a sandbox account."""
    return isinstance((settings or {}).get(SANDBOX_KEY), Mapping)


def _spec_of_written_estate(estate_dir: Path) -> dict[str, Any]:
    inventory = json.loads((estate_dir / "inventory.json").read_text(encoding="utf-8"))
    spec = inventory.get("spec")
    if not isinstance(spec, dict):
        raise CredentialsError(f"sandbox estate {estate_dir} has no generation spec")
    return spec


def sandbox_store_dir(sandbox: Mapping[str, Any]) -> Path:
    """The ``SandboxEstateStore`` directory of a sandbox account's settings (adopting a plain estate)."""
    state = import_module("cloudoptima.clouds.sandbox.state")
    store_file, estate_dir = state.STORE_FILE, state.ESTATE_DIR

    given = sandbox.get("state_dir") or sandbox.get("estate_dir")
    if not given:
        raise CredentialsError("sandbox account settings name no estate_dir or state_dir")
    path = Path(str(given)).expanduser().resolve()
    if (path / store_file).exists():
        return path
    if path.name == estate_dir and (path.parent / store_file).exists():
        return path.parent
    if not (path / "inventory.json").exists():
        raise CredentialsError(f"no sandbox estate at {path}")
    adopted = path.with_name(path.name + STORE_SUFFIX)
    with _ADOPT_LOCK:
        if not (adopted / store_file).exists():
            spec = _spec_of_written_estate(path)
            state.SandboxEstateStore.create(
                adopted,
                seed=int(spec["seed"]),
                accounts=int(spec["accounts"]),
                days=int(spec["days"]),
                end=date.fromisoformat(str(spec["end"])),
            )
    return adopted


class ProviderRegistry:
    """Builds providers for connected accounts; one per worker process (see the module contract)."""

    def __init__(
        self,
        cipher: CredentialCipher,
        *,
        builders: Mapping[str, Builder] | None = None,
        sandbox_clock: Clock | None = None,
    ) -> None:
        self._cipher = cipher
        self._builders = dict(BUILDERS if builders is None else builders)
        self._sandbox_clock = sandbox_clock

    @property
    def provider_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._builders))

    def for_account(self, row: AccountRow) -> CloudProviderClient:
        """The provider client of ``row``; :class:`CredentialsError` when it cannot be built."""
        settings = dict(row.settings or {})
        if is_sandbox(settings):
            return self._sandbox(row, settings[SANDBOX_KEY])
        builder = self._builders.get(row.provider)
        if builder is None:
            raise CredentialsError(f"unknown cloud provider {row.provider!r}")
        try:
            credentials = self._cipher.decrypt(row.credentials_encrypted)
        except CredentialDecryptionError as exc:
            raise CredentialsError(str(exc)) from None
        return builder(credentials, settings)

    def _sandbox(self, row: AccountRow, sandbox: Mapping[str, Any]) -> CloudProviderClient:
        sandbox_provider = load_implementation(SANDBOX_IMPLEMENTATION)
        state_dir = sandbox_store_dir(sandbox)
        kwargs: dict[str, Any] = {
            "denied_permissions": tuple(sandbox.get("denied_permissions") or ()),
            "fail_regions": tuple(sandbox.get("fail_regions") or ()),
            "throttle_first_n": int(sandbox.get("throttle_first_n") or 0),
        }
        if self._sandbox_clock is not None:
            kwargs["clock"] = self._sandbox_clock
        account_id = str(sandbox.get("account_id") or row.account_identifier)
        try:
            return sandbox_provider(state_dir, account_id, **kwargs)
        except FileNotFoundError as exc:
            raise CredentialsError(str(exc)) from None
