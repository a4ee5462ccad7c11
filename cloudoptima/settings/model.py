"""The settings tree: every field (its environment variable is its alias), its validation, and what is
derived from it (paths in the state directory, service URLs, secrets and key rings).

The derivations live beside this module, one concern each: ``runtime_state`` (URLs of the running embedded
platform), ``stored_secrets`` (secrets generated in embedded mode, refusal of unsafe values) and ``key_rings``
(encryption and JWT key rings).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cloudoptima.security.jwt_keys import SigningKeyRing
from cloudoptima.settings import key_rings, runtime_state, stored_secrets
from cloudoptima.settings.errors import SettingsError
from cloudoptima.settings.key_rings import JwtPreviousKey

DEFAULT_CONSOLE_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"
"""The checkout's built console (``make web``); the gateway serves the same folder by default."""


class Settings(BaseSettings):
    """CloudOptima configuration. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=False)

    mode: Literal["embedded", "production"] = Field(
        default="embedded", validation_alias=AliasChoices("CLOUDOPTIMA_MODE", "mode")
    )
    state_dir: Path = Field(
        default=Path(".cloudoptima"), validation_alias=AliasChoices("CLOUDOPTIMA_STATE_DIR", "state_dir")
    )
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "redis_url"))
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS", "temporal_address")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "temporal_namespace")
    )
    temporal_ui_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_UI_URL", "temporal_ui_url")
    )
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("CLOUDOPTIMA_HOST", "host"))
    gateway_port: int = Field(default=8000, validation_alias=AliasChoices("CLOUDOPTIMA_PORT", "gateway_port"))
    postgres_port: int = Field(
        default=54329, validation_alias=AliasChoices("CLOUDOPTIMA_POSTGRES_PORT", "postgres_port")
    )
    redis_port: int = Field(
        default=63799, validation_alias=AliasChoices("CLOUDOPTIMA_REDIS_PORT", "redis_port")
    )
    temporal_port: int = Field(
        default=7233, validation_alias=AliasChoices("CLOUDOPTIMA_TEMPORAL_PORT", "temporal_port")
    )
    temporal_ui_port: int = Field(
        default=8233, validation_alias=AliasChoices("CLOUDOPTIMA_TEMPORAL_UI_PORT", "temporal_ui_port")
    )
    jwt_secret: str | None = Field(default=None, validation_alias=AliasChoices("JWT_SECRET", "jwt_secret"))
    jwt_algorithm: str = "HS256"
    access_token_minutes: int = 30
    refresh_token_days: int = 14
    encryption_key: str | None = Field(
        default=None, validation_alias=AliasChoices("CLOUDOPTIMA_ENCRYPTION_KEY", "encryption_key")
    )
    encryption_keys: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices("CLOUDOPTIMA_ENCRYPTION_KEYS", "encryption_keys"),
    )
    """The encryption key ring, newest first (comma-separated or a JSON list): the newest key encrypts, every
    key decrypts; ``cloudoptima secrets rotate`` moves stored values to the newest. Replaces
    ``CLOUDOPTIMA_ENCRYPTION_KEY`` when set (which, if also set, must be the newest)."""
    jwt_key_id: str | None = Field(default=None, validation_alias=AliasChoices("JWT_KEY_ID", "jwt_key_id"))
    """The ``kid`` of ``JWT_SECRET`` (default: derived from the secret's hash)."""
    jwt_previous_keys: list[JwtPreviousKey] = Field(
        default_factory=list,
        repr=False,
        validation_alias=AliasChoices("JWT_PREVIOUS_KEYS", "jwt_previous_keys"),
    )
    """Retired signing keys (JSON list of ``{"kid", "secret", "retired_at"}``): tokens they signed are still
    accepted until ``retired_at`` + ``JWT_KEY_GRACE_MINUTES``; new tokens are signed with ``JWT_SECRET``."""
    jwt_key_grace_minutes: int | None = Field(
        default=None, validation_alias=AliasChoices("JWT_KEY_GRACE_MINUTES", "jwt_key_grace_minutes")
    )
    """How long a retired signing key still verifies tokens (default: the access-token lifetime)."""
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://127.0.0.1:3000"],
        validation_alias=AliasChoices("CORS_ORIGINS", "cors_origins"),
    )
    trusted_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "testserver"],
        validation_alias=AliasChoices("TRUSTED_HOSTS", "trusted_hosts"),
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))
    # ---- tracing (cloudoptima.observability.tracing): off unless an OTLP endpoint is set -----------------------
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )
    """Base URL of an OTLP/HTTP collector (``http://otel-collector:4318``): traces go to ``<it>/v1/traces``.
    Unset or empty: no tracing at all. The SDK's other ``OTEL_*`` variables (sampler, headers, batch sizes,
    resource attributes) are read by the SDK itself."""
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otel_exporter_otlp_traces_endpoint"
        ),
    )
    """The full traces URL, when it is not ``<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces``."""
    otel_sdk_disabled: bool = Field(
        default=False, validation_alias=AliasChoices("OTEL_SDK_DISABLED", "otel_sdk_disabled")
    )
    """True keeps tracing off even with an endpoint set (the SDK's own switch)."""
    database_name: str = "cloudoptima"
    # ---- LLM providers (cloudoptima_agents.models picks exactly one, explicitly; none = offline narrator) ---------
    anthropic_api_key: str | None = Field(
        default=None, repr=False, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    openai_api_key: str | None = Field(
        default=None, repr=False, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("LLM_BASE_URL", "llm_base_url")
    )
    """Any OpenAI-compatible server (vLLM, Ollama, LM Studio...); used when no vendor key is set."""
    llm_api_key: str | None = Field(
        default=None, repr=False, validation_alias=AliasChoices("LLM_API_KEY", "llm_api_key")
    )
    llm_model: str | None = Field(default=None, validation_alias=AliasChoices("LLM_MODEL", "llm_model"))
    """Model name; each provider has a default when unset."""
    llm_embedding_model: str | None = Field(
        default=None, validation_alias=AliasChoices("LLM_EMBEDDING_MODEL", "llm_embedding_model")
    )
    """An OpenAI-compatible embedding model (384 dimensions requested); unset = the bundled MiniLM."""
    # ---- collection and scheduling (cloudoptima_workflows.schedules / collection) ------------------------
    collection_sandbox_interval_minutes: int = Field(
        default=5,
        gt=0,
        validation_alias=AliasChoices(
            "COLLECTION_SANDBOX_INTERVAL_MINUTES", "collection_sandbox_interval_minutes"
        ),
    )
    collection_live_interval_minutes: int = Field(
        default=60,
        gt=0,
        validation_alias=AliasChoices("COLLECTION_LIVE_INTERVAL_MINUTES", "collection_live_interval_minutes"),
    )
    collection_restate_days: int = Field(
        default=3, ge=1, validation_alias=AliasChoices("COLLECTION_RESTATE_DAYS", "collection_restate_days")
    )
    """Days before the last sync that are fetched again (clouds restate recent days)."""
    collection_initial_days: int = Field(
        default=31, ge=1, validation_alias=AliasChoices("COLLECTION_INITIAL_DAYS", "collection_initial_days")
    )
    """Days of costs fetched for an account that was never synced (today included): 31 covers the 30 whole
    days before the first analysis, so its savings can already be what each resource was billed."""
    collection_concurrency: int = Field(
        default=20, ge=1, validation_alias=AliasChoices("COLLECTION_CONCURRENCY", "collection_concurrency")
    )
    """How many accounts one CollectAll run collects at the same time."""
    utilisation_backfill_days: int = Field(
        default=30,
        ge=1,
        le=93,
        validation_alias=AliasChoices("UTILISATION_BACKFILL_DAYS", "utilisation_backfill_days"),
    )
    """Hours of utilisation a first collection reads back, in days (CloudWatch keeps hourly data 63 days,
    Azure Monitor 93, Cloud Monitoring 6 weeks); later collections append from the newest stored hour."""
    utilisation_window_days: int = Field(
        default=93,
        ge=1,
        le=400,
        validation_alias=AliasChoices("UTILISATION_WINDOW_DAYS", "utilisation_window_days"),
    )
    """Days of utilisation history the summaries cover (what idle and rightsizing rules judge on)."""
    utilisation_retention_days: int = Field(
        default=93,
        ge=1,
        le=400,
        validation_alias=AliasChoices("UTILISATION_RETENTION_DAYS", "utilisation_retention_days"),
    )
    """Days of hourly utilisation history kept; whole older months are dropped."""
    worker_activity_threads: int = Field(
        default=16,
        ge=1,
        le=256,
        validation_alias=AliasChoices("CLOUDOPTIMA_WORKER_THREADS", "worker_activity_threads"),
    )
    """Threads (and concurrent activities per task queue) of one worker process. Live clouds are I/O-bound
    (more threads overlap their API latency); sandbox collection is CPU-bound, where a few threads per core
    waste less CPU on contention (``benchmarks/collect_accounts.py --threads``)."""
    gateway_workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        validation_alias=AliasChoices("GATEWAY_WORKERS", "gateway_workers"),
    )
    """Gateway processes (uvicorn workers) sharing the HTTP port (``resolved_gateway_workers``). Unset: one per
    usable CPU up to 4 in production mode, 1 in embedded mode (``cloudoptima up`` shares the machine with
    Postgres, Redis, Temporal and a worker). In Kubernetes set it to the CPUs of the pod's limit."""
    api_key_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        le=300,
        validation_alias=AliasChoices("API_KEY_CACHE_SECONDS", "api_key_cache_seconds"),
    )
    """How long a gateway process reuses a verified API key without the database and argon2
    (``cloudoptima.services.api_key_cache``); 0 verifies every request. A revoked key, a deactivated user or a
    role change takes effect at once in every process whatever this is (Redis markers)."""
    list_cache_seconds: float = Field(
        default=300.0,
        ge=0,
        le=3600,
        validation_alias=AliasChoices("LIST_CACHE_SECONDS", "list_cache_seconds"),
    )
    """How long a gateway process may answer a repeated list GET (recommendations, compute resources, anomalies,
    cloud accounts) from memory (``cloudoptima_gateway.list_cache``); 0 turns it off. A committed change to what
    a list reads is seen by the next request whatever this is (the change feed of migration 0042: it needs a
    direct, session-mode connection to Postgres for ``LISTEN``, not a transaction-mode pooler)."""
    change_feed_database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CHANGE_FEED_DATABASE_URL", "change_feed_database_url"),
    )
    """A direct (session-mode) connection for the list cache's ``LISTEN`` when ``DATABASE_URL`` goes through a
    transaction-mode pooler (default: ``DATABASE_URL``; a connection that cannot hear its own notification is
    refused, and lists are then not cached)."""
    price_refresh_interval_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 31,
        validation_alias=AliasChoices("PRICE_REFRESH_INTERVAL_HOURS", "price_refresh_interval_hours"),
    )
    """How often the price store is refreshed from the providers' price lists (the ``RefreshPrices`` schedule)."""
    gcp_billing_api_key: str | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices("GCP_BILLING_API_KEY", "gcp_billing_api_key"),
    )
    """An API key for the GCP Cloud Billing Catalog (the catalog needs a key or OAuth; without one the GCP
    refresh fails visibly and GCP savings use the built-in tables)."""
    schedules_enabled: bool = Field(
        default=True, validation_alias=AliasChoices("CLOUDOPTIMA_SCHEDULES", "schedules_enabled")
    )
    """Create or update the Temporal Schedules when a worker starts."""
    public_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CLOUDOPTIMA_PUBLIC_URL", "public_url")
    )
    """The address people reach the product at, for links in emails (default: ``http://HOST:PORT``)."""
    console_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("CLOUDOPTIMA_CONSOLE_DIR", "console_dir")
    )
    """The built web console the gateway serves at ``/`` (default: the checkout's ``web/dist`` when present;
    ``make web`` builds it). When the folder has no ``index.html``, ``/`` says how to build it (503)."""
    console_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CLOUDOPTIMA_CONSOLE_URL", "console_url")
    )
    """Where notices link people to (``resolved_console_url``): the web console's base URL (absolute, or a path
    under the public URL). Unset: the public URL when the console is built; empty: no console, notices link
    to the API (headless installs)."""
    smtp_host: str | None = Field(default=None, validation_alias=AliasChoices("SMTP_HOST", "smtp_host"))
    """The mail server for password-reset links; unset: embedded mode writes the email to the log."""
    smtp_port: int = Field(default=587, validation_alias=AliasChoices("SMTP_PORT", "smtp_port"))
    smtp_username: str | None = Field(
        default=None, validation_alias=AliasChoices("SMTP_USERNAME", "smtp_username")
    )
    smtp_password: str | None = Field(
        default=None, repr=False, validation_alias=AliasChoices("SMTP_PASSWORD", "smtp_password")
    )
    smtp_from: str = Field(
        default="CloudOptima <no-reply@localhost>", validation_alias=AliasChoices("SMTP_FROM", "smtp_from")
    )
    smtp_starttls: bool = Field(default=True, validation_alias=AliasChoices("SMTP_STARTTLS", "smtp_starttls"))
    """Upgrade the SMTP connection with STARTTLS (certificate verified) before sending."""
    notifications_allow_insecure_localhost: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "NOTIFICATIONS_ALLOW_INSECURE_LOCALHOST", "notifications_allow_insecure_localhost"
        ),
    )
    """Accept ``http``/``https`` notification channel URLs on localhost (a receiver on the same machine)."""
    password_reset_minutes: int = Field(
        default=30,
        ge=5,
        le=1440,
        validation_alias=AliasChoices("PASSWORD_RESET_MINUTES", "password_reset_minutes"),
    )
    """How long an emailed password-reset link works (it works once)."""
    reports_link_ttl_hours: int = Field(
        default=168,
        ge=1,
        le=24 * 90,
        validation_alias=AliasChoices("REPORTS_LINK_TTL_HOURS", "reports_link_ttl_hours"),
    )
    """How long a generated report can be downloaded (its signed link and its artifact), in hours."""
    reports_s3_bucket: str | None = Field(
        default=None, validation_alias=AliasChoices("REPORTS_S3_BUCKET", "reports_s3_bucket")
    )
    """The S3 bucket reports with ``delivery.method = s3`` are uploaded to (unset: s3 delivery is refused)."""
    reports_s3_prefix: str = Field(
        default="cloudoptima-reports", validation_alias=AliasChoices("REPORTS_S3_PREFIX", "reports_s3_prefix")
    )
    """The key prefix of uploaded reports: ``<prefix>/<org>/<yyyy-mm-dd>/<template>-<report id><suffix>``."""
    reports_s3_endpoint_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REPORTS_S3_ENDPOINT_URL", "reports_s3_endpoint_url")
    )
    """An S3-compatible endpoint (MinIO, Ceph…) instead of AWS."""
    reports_s3_region: str | None = Field(
        default=None, validation_alias=AliasChoices("REPORTS_S3_REGION", "reports_s3_region")
    )
    """The bucket's region (default: the AWS SDK's own resolution)."""
    exports_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        validation_alias=AliasChoices("EXPORTS_RETENTION_DAYS", "exports_retention_days"),
    )
    """Days a finished cost export run is kept; older runs and their files under a folder destination are
    pruned by the weekly maintenance (``cloudoptima.services.export_retention``)."""
    cost_rows_retention_days: int = Field(
        default=1095,
        ge=1,
        le=36500,
        validation_alias=AliasChoices("COST_ROWS_RETENTION_DAYS", "cost_rows_retention_days"),
    )
    """Days of raw cost rows (``cost_data``) kept; whole months before the cutoff's month are dropped by the
    daily retention (``cloudoptima.services.retention``); the daily rollup stays. At least 400 (13 months)."""
    notifications_retention_days: int = Field(
        default=180,
        ge=1,
        le=36500,
        validation_alias=AliasChoices("NOTIFICATIONS_RETENTION_DAYS", "notifications_retention_days"),
    )
    """Days an inbox notification (read or not) is kept. At least 30."""
    chat_checkpoints_retention_days: int = Field(
        default=90,
        ge=1,
        le=36500,
        validation_alias=AliasChoices("CHAT_CHECKPOINTS_RETENTION_DAYS", "chat_checkpoints_retention_days"),
    )
    """Days a chat conversation (LangGraph checkpoint thread) is kept after its last turn. At least 7."""
    retention_allow_short: bool = Field(
        default=False, validation_alias=AliasChoices("RETENTION_ALLOW_SHORT", "retention_allow_short")
    )
    """True lowers the retention floors above to 1 day (tests, demos); never needed in production."""

    @property
    def otlp_traces_endpoint(self) -> str | None:
        """Where spans are exported (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, else
        ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``); None: tracing is off (also when ``OTEL_SDK_DISABLED``)."""
        if self.otel_sdk_disabled:
            return None
        traces = (self.otel_exporter_otlp_traces_endpoint or "").strip()
        if traces:
            return traces
        base = (self.otel_exporter_otlp_endpoint or "").strip()
        return f"{base.rstrip('/')}/v1/traces" if base else None

    @property
    def resolved_gateway_workers(self) -> int:
        """``GATEWAY_WORKERS``, else min(usable CPUs, 4) in production mode and 1 in embedded mode."""
        if self.gateway_workers is not None:
            return self.gateway_workers
        if self.mode != "production":
            return 1
        return max(1, min(len(os.sched_getaffinity(0)), 4))

    @property
    def resolved_public_url(self) -> str:
        """``CLOUDOPTIMA_PUBLIC_URL`` without a trailing slash, or the gateway's own address."""
        return (self.public_url or f"http://{self.host}:{self.gateway_port}").rstrip("/")

    @property
    def resolved_console_url(self) -> str | None:
        """The console base URL notices link to (``console_url`` without a trailing slash; unset: the public URL
        when the console is served, i.e. ``console_dir`` (default ``web/dist``) has an ``index.html``; empty:
        None, links go to the API)."""
        if self.console_url is not None:
            return self.console_url.strip().rstrip("/") or None
        folder = self.console_dir if self.console_dir is not None else DEFAULT_CONSOLE_DIR
        return self.resolved_public_url if (folder / "index.html").is_file() else None

    @field_validator("console_url")
    @classmethod
    def _console_url_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return value
        if not value.strip().startswith(("http://", "https://", "/")):
            raise ValueError(
                f"CLOUDOPTIMA_CONSOLE_URL must be an http(s) URL, a path starting with '/', or empty; got {value!r}"
            )
        return value.strip()

    @field_validator("otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint")
    @classmethod
    def _otlp_url_shape(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith(("http://", "https://")):
            name = str(info.field_name).upper()
            raise ValueError(
                f"{name} must be an http(s) URL (an OTLP/HTTP collector) or empty; got {value!r}"
            )
        return value.strip()

    @field_validator("gateway_workers", mode="before")
    @classmethod
    def _blank_workers_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("gateway_port", "postgres_port", "redis_port", "temporal_port", "temporal_ui_port")
    @classmethod
    def _port_in_range(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError(f"port {value} is outside 1..65535")
        return value

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _window_within_retention(self) -> Settings:
        if self.utilisation_window_days > self.utilisation_retention_days:
            raise ValueError(
                f"UTILISATION_WINDOW_DAYS ({self.utilisation_window_days}) cannot exceed "
                f"UTILISATION_RETENTION_DAYS ({self.utilisation_retention_days}): summaries read only kept history"
            )
        return self

    @model_validator(mode="after")
    def _retention_floors(self) -> Settings:
        floors = (
            ("COST_ROWS_RETENTION_DAYS", self.cost_rows_retention_days, 400),
            ("NOTIFICATIONS_RETENTION_DAYS", self.notifications_retention_days, 30),
            ("CHAT_CHECKPOINTS_RETENTION_DAYS", self.chat_checkpoints_retention_days, 7),
        )
        for name, value, floor in floors:
            if value < floor and not self.retention_allow_short:
                raise ValueError(
                    f"{name} ({value}) is below its safe minimum of {floor} days; set RETENTION_ALLOW_SHORT=true "
                    "to allow it"
                )
        return self

    # ---- derived paths -------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        """The absolute state directory."""
        return self.state_dir.expanduser().resolve()

    @property
    def runtime_file(self) -> Path:
        return self.state_path / "runtime.json"

    @property
    def secrets_file(self) -> Path:
        return self.state_path / "secrets.json"

    @property
    def credentials_file(self) -> Path:
        return self.state_path / "demo-credentials.json"

    # ---- service URLs ---------------------------------------------------------------------------------
    def _service_url(self, given: str | None, key: str, variable: str) -> str:
        return runtime_state.service_url(given, self.runtime_file, self.state_path, key, variable)

    def resolved_database_url(self) -> str:
        """SQLAlchemy URL of the database: ``DATABASE_URL`` or the embedded server's."""
        return self._service_url(self.database_url, "database_url", "DATABASE_URL")

    def resolved_redis_url(self) -> str:
        return self._service_url(self.redis_url, "redis_url", "REDIS_URL")

    def resolved_temporal_address(self) -> str:
        return self._service_url(self.temporal_address, "temporal_address", "TEMPORAL_ADDRESS")

    def resolved_temporal_ui_url(self) -> str | None:
        return self.temporal_ui_url or runtime_state.read_runtime(self.runtime_file).get("temporal_ui_url")

    # ---- secrets --------------------------------------------------------------------------------------
    @cached_property
    def _stored_secrets(self) -> dict[str, str]:
        return stored_secrets.load_or_create(self.secrets_file)

    def _secret(self, value: str | None, key: str, variable: str) -> str:
        return stored_secrets.given_or_stored(
            value, key, variable, production=self.mode == "production", stored=lambda: self._stored_secrets
        )

    @property
    def resolved_jwt_secret(self) -> str:
        return self._secret(self.jwt_secret, "jwt_secret", "JWT_SECRET")

    @property
    def resolved_encryption_key(self) -> str:
        """The newest Fernet key (urlsafe base64 of 32 bytes): the one that encrypts."""
        return self.resolved_encryption_keys[0]

    @property
    def resolved_encryption_keys(self) -> tuple[str, ...]:
        """The key ring, newest first: ``CLOUDOPTIMA_ENCRYPTION_KEYS``, else the single key.

        Every key must be a Fernet key and not a known default; keys are unique; a single
        ``CLOUDOPTIMA_ENCRYPTION_KEY`` set beside the ring must be its newest key.
        """
        if not self.encryption_keys:
            key = self._secret(self.encryption_key, "encryption_key", "CLOUDOPTIMA_ENCRYPTION_KEY")
            key_rings.check_fernet((key,), "CLOUDOPTIMA_ENCRYPTION_KEY")
            return (key,)
        return key_rings.encryption_key_ring(self.encryption_keys, self.encryption_key)

    @property
    def resolved_jwt_keys(self) -> SigningKeyRing:
        """The JWT signing key ring: ``JWT_SECRET`` (kid ``JWT_KEY_ID``) signs; ``JWT_PREVIOUS_KEYS`` still
        verify during ``JWT_KEY_GRACE_MINUTES``. Unsafe values (known defaults, short secrets in production,
        reused kids or secrets, a grace outside 1 minute..1 day) are refused naming the variable."""
        minutes = self.jwt_key_grace_minutes
        if minutes is None:
            minutes = self.access_token_minutes
        return key_rings.jwt_key_ring(
            self.resolved_jwt_secret,
            self.jwt_key_id,
            self.jwt_previous_keys,
            minutes,
            production=self.mode == "production",
        )

    def jwt_keys_retired_at(self, when: datetime) -> list[dict[str, str]]:
        """``JWT_PREVIOUS_KEYS`` after retiring the current key at ``when`` (what to set when rotating)."""
        return key_rings.retired_at(self.resolved_jwt_keys, when)

    def check_production_safety(self) -> None:
        """Raise :class:`SettingsError` when production mode lacks a safe secret or a service URL."""
        if self.mode != "production":
            return
        _ = self.resolved_jwt_keys
        _ = self.resolved_encryption_keys
        for value, variable in (
            (self.database_url, "DATABASE_URL"),
            (self.redis_url, "REDIS_URL"),
            (self.temporal_address, "TEMPORAL_ADDRESS"),
        ):
            if not value:
                raise SettingsError(f"{variable} is required in production mode")
        if "*" in self.trusted_hosts or "*" in self.cors_origins:
            raise SettingsError("TRUSTED_HOSTS and CORS_ORIGINS may not contain '*' in production mode")


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (used by the CLI and tests)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
