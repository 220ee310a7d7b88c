"""One settings model: environment (FERRYBOT_*) over an optional YAML file, validated at start."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as SourceParseError
from ruamel.yaml import YAML

from bot.env_names import PREFIX, check_variable
from schemas.config import BotConfig


class LogFormat(StrEnum):
    """How log lines are rendered."""

    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class LogLevel(StrEnum):
    """The lowest level logged."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class KafkaCompression(StrEnum):
    """Compression of produced batches (lz4, zstd and snappy come with cramjam)."""

    GZIP = "gzip"
    LZ4 = "lz4"
    ZSTD = "zstd"
    SNAPPY = "snappy"
    NONE = "none"


class KafkaSecurityProtocol(StrEnum):
    """Passed through to aiokafka as `security_protocol`."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SettingsError(Exception):
    """Settings that cannot work; the message names the setting and how to fix it."""


class _FileSource(PydanticBaseSettingsSource):
    """The `--config` YAML file's mapping; the environment still wins over it."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    """Where ferrybot connects and how it behaves; every field is `FERRYBOT_<NAME>` in the env."""

    model_config = SettingsConfigDict(
        env_prefix="FERRYBOT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    # Kafka
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        description="Comma-separated Kafka brokers. Unset: start the embedded Tansu broker.",
    )
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        default=KafkaSecurityProtocol.PLAINTEXT, description="Kafka security protocol."
    )
    kafka_sasl_mechanism: str | None = Field(
        default=None, description="SASL mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(default=None, description="CA bundle for TLS to Kafka.")
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="Client certificate for mTLS."
    )
    kafka_ssl_keyfile: Path | None = Field(default=None, description="Client key for mTLS.")
    kafka_enable_idempotence: bool | None = Field(
        default=None,
        description="Idempotent producer. Unset: on for a real cluster, off for the embedded "
        "broker (Tansu refuses InitProducerId).",
    )
    kafka_compression: KafkaCompression = Field(
        default=KafkaCompression.ZSTD,
        description="Compression of produced batches. zstd measured 50 us per 25 KB webhook "
        "against 235 us for gzip and 189 us for aiokafka's lz4 (level 9), at a similar size.",
    )
    kafka_consumer_group: str = Field(
        default="ferrybot-worker", description="Worker consumer group."
    )
    kafka_partitions: int = Field(
        default=6, ge=1, le=1000, description="Partitions when ferrybot creates its topics."
    )
    kafka_replication_factor: int = Field(
        default=1, ge=1, description="Replication factor when ferrybot creates its topics."
    )
    kafka_retention_ms: int = Field(
        default=7 * 24 * 3600 * 1000,
        ge=60_000,
        description="retention.ms of the topics ferrybot creates (default 7 days: long enough "
        "to replay a week, short enough that a busy topic stays bounded). The embedded broker "
        "(Tansu 0.6, memory engine) records it but frees nothing: see the README.",
    )
    kafka_metadata_max_age_ms: int = Field(
        default=30_000, ge=1000, description="How often clients refresh cluster metadata."
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=10,
        ge=0,
        le=5000,
        description="How long a consumer fetch may wait for records. The broker (the embedded "
        "one answers near the end of the wait) holds each hop this long when idle; 10 ms "
        "measured ~3 ms per hop against aiokafka's 500 ms default.",
    )
    kafka_linger_ms: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="How long a producer waits to fill a batch before sending. Every webhook "
        "waits for its acknowledgement, so any linger adds straight to the answer time.",
    )
    topic_events: str = Field(default="ferrybot.events", description="Topic of accepted webhooks.")
    topic_dlq: str = Field(default="ferrybot.dlq", description="Dead-letter topic.")
    topic_notifications: str = Field(
        default="ferrybot.notifications", description="Topic of chat notifications."
    )
    topic_audit: str = Field(default="ferrybot.audit", description="Topic of actions taken.")
    produce_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=9,
        description="How long ingress waits for the broker's ack before answering 503 "
        "(GitHub gives up after 10 s).",
    )
    embedded_broker_port: int = Field(
        default=0, ge=0, le=65535, description="Port of the embedded broker (0: a free one)."
    )

    # HTTP ingress
    http_host: str = Field(default="127.0.0.1", description="Address the ingress listens on.")
    http_port: int = Field(default=8080, ge=0, le=65535, description="Port the ingress listens on.")
    max_body_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1024,
        description="Largest webhook body accepted (GitHub caps payloads at 25 MB).",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address of /metrics, /healthz and /readyz in processes without an ingress "
        "(worker, notifier, reconciler); with an ingress they are on its port.",
    )
    metrics_port: int = Field(
        default=9090,
        ge=0,
        le=65535,
        description="Port of /metrics, /healthz and /readyz in processes without an ingress.",
    )
    http_header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection whose request line and headers have not all arrived this "
        "long after it opened (or after its previous response) is closed.",
    )
    http_body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A webhook body not fully received this long after its headers gets 408.",
    )
    http_max_connections: int = Field(
        default=500,
        ge=1,
        description="Most client connections the ingress holds open at once; more are answered "
        "503 and closed.",
    )

    # GitHub
    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub REST base URL; for GitHub Enterprise https://HOST/api/v3.",
    )
    github_writes_per_minute: int = Field(
        default=80,
        ge=0,
        description="Writes (POST, PATCH, PUT, DELETE) per installation and minute, made one at "
        "a time: GitHub's secondary limit for content-creating requests. 0 with "
        "FERRYBOT_GITHUB_WRITES_PER_HOUR=0 turns pacing off (tests, benchmarks).",
    )
    github_writes_per_hour: int = Field(
        default=500,
        ge=0,
        description="Writes per installation and hour (GitHub's limit for content-creating "
        "requests); a `retry-after` from GitHub holds the installation's writes as long.",
    )
    github_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated webhook secrets; several are accepted during rotation. "
        "Unset: `ferrybot run` creates one for the local run.",
    )
    github_app_id: int | None = Field(default=None, description="GitHub App id (App auth).")
    github_private_key: SecretStr | None = Field(
        default=None, description="GitHub App private key, PEM text."
    )
    github_private_key_path: Path | None = Field(
        default=None, description="GitHub App private key, PEM file."
    )
    github_token: SecretStr | None = Field(
        default=None, description="A token (PAT or Actions token) for token auth."
    )
    dry_run: bool | None = Field(
        default=None,
        description="Record GitHub calls instead of sending them. Unset: on when no "
        "GitHub credentials are configured.",
    )

    # MLflow and container registries (promotion sources)
    mlflow_tracking_url: str | None = Field(
        default=None,
        description="MLflow tracking server base URL (REST, /api/2.0); needed by model pipelines.",
    )
    mlflow_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated MLflow webhook secrets; several are accepted during "
        "rotation. Unset: /webhooks/mlflow refuses every delivery.",
    )
    gitlab_webhook_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated secret tokens of GitLab webhooks (X-Gitlab-Token); several "
        "are accepted during rotation. Unset: /webhooks/gitlab refuses every delivery.",
    )
    gitlab_signing_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Standard Webhooks signing secrets (`whsec_...`) of GitLab "
        "19 webhooks; when set, every GitLab delivery must carry a valid webhook-signature.",
    )
    gitlab_url: str = Field(
        default="https://gitlab.com",
        description="GitLab base URL (the API is at /api/v4 below it); for a self-managed "
        "instance under a path, e.g. https://example.com/gitlab.",
    )
    gitlab_token: SecretStr | None = Field(
        default=None,
        description="A GitLab project, group or personal access token with the `api` scope, "
        "of a user with at least the Developer role. Unset: GitLab events are handled in dry run.",
    )
    gitlab_status_check_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated shared secrets of GitLab external status checks pointed at "
        "/webhooks/gitlab/status-checks (Ultimate). Unset: that endpoint refuses every request.",
    )
    mlflow_timestamp_tolerance_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="Largest difference between X-MLflow-Timestamp and now before a delivery "
        "is refused as a replay.",
    )
    registry_webhook_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Static token per registry webhook endpoint (distribution, harbor), as "
        'JSON: {"distribution": "..."}; sent by the registry as `Authorization: Bearer <token>`'
        " (or the bare token).",
    )
    dockerhub_url_token: SecretStr | None = Field(
        default=None,
        description="Secret path token of /webhooks/registry/docker-hub/<token>; unset refuses "
        "Docker Hub deliveries.",
    )
    alertmanager_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated bearer tokens Alertmanager's `http_config.authorization` "
        "sends to /webhooks/alertmanager; several are accepted during rotation. Unset: every "
        "delivery is refused.",
    )
    registry_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Registry API base URL per registry name used by pipelines, as JSON: "
        '{"distribution": "https://registry.example.com"}; tags are confirmed there.',
    )
    registry_credentials: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="`user:password` (or `user:token`) per registry name, as JSON, for "
        "registries that need a login to read manifests; public images need none.",
    )
    reconcile_enabled: bool = Field(
        default=True,
        description="Poll MLflow for the configured models' aliases, tags and versions that "
        "webhooks missed (off: webhooks only).",
    )
    reconcile_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often the reconciler polls MLflow for aliases and tags that webhooks "
        "missed.",
    )
    delivery_recovery_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="App auth: how often the reconciler lists the App's webhook deliveries and "
        "asks GitHub to redeliver the ones that failed (also once at start).",
    )
    delivery_recovery_lookback_seconds: float = Field(
        default=86400.0,
        gt=0,
        le=3 * 86400,
        description="App auth: how far back the first round after start looks for failed "
        "deliveries (GitHub keeps three days); later rounds look back to the previous one.",
    )

    # Deployment feedback and the delivery ledger
    argocd_webhook_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated tokens Argo CD Notifications sends as `Authorization: "
        "Bearer <token>` to /webhooks/argocd; several are accepted during rotation. Unset: "
        "/webhooks/argocd refuses every delivery.",
    )
    flux_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated HMAC keys of Flux's generic-hmac Provider (`X-Signature: "
        "sha256=<hex>`) for /webhooks/flux. Unset: /webhooks/flux refuses every delivery.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy async URL of the delivery ledger, e.g. "
        "postgresql+asyncpg://user:pass@db/ferrybot. Unset: SQLite file ledger.db in the state "
        "dir.",
    )
    ledger_change_failure_window_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        description="A deployment degraded, failed or rolled back within this long after it "
        "succeeded counts as a change failure.",
    )
    ledger_metrics_window_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Window of the DORA and model metrics on /board, /api/ledger/metrics, "
        "/metrics and `ferrybot metrics`.",
    )
    board_token: SecretStr | None = Field(
        default=None,
        description="Token /board and /api/ledger/metrics require (`Authorization: Bearer "
        "<token>` or `?token=`). Unset: open to whoever reaches the port (use a proxy).",
    )

    # Worker
    retry_attempts: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Attempts of a handler before its event goes to the DLQ.",
    )
    retry_max_wait_seconds: float = Field(
        default=60.0, gt=0, description="Longest single back-off wait, whatever retry-after says."
    )
    worker_concurrency: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="Events one worker handles at once, each of a different subject (pull "
        "request, model, image): events of one subject always run one after another, in order.",
    )
    worker_max_buffered: int = Field(
        default=5000,
        ge=10,
        description="Fetched events a worker holds (running or waiting) before it pauses "
        "fetching; bounds its memory whatever the backlog.",
    )
    check_run_trust_new_heads: bool = Field(
        default=False,
        description="Create the check run of a pull request's live new head without looking it "
        "up first (one GitHub call less per check). A head that already had a run before this "
        "worker started (a PR reopened on the same branch, a force-push back) then gets a second.",
    )
    repo_config_ttl_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long a repository's `.github/ferrybot.yml` is used before it is read "
        "again (a push to the default branch reads it again at once); 0 reads it per event.",
    )
    dedupe_ttl_seconds: int = Field(
        default=24 * 3600, ge=1, description="How long a delivery id is remembered."
    )
    dedupe_max_entries: int = Field(
        default=100_000, ge=1, description="How many delivery ids are remembered."
    )

    # Runtime
    shutdown_drain_seconds: float = Field(
        default=60.0,
        ge=0,
        description="On stop, how long the worker may take to handle what was already "
        "accepted; with the embedded broker, whatever is left is spooled to the state dir and "
        "produced again at the next start.",
    )
    state_dir: Path = Field(
        default=Path(".ferrybot"),
        description="Where the local run keeps its generated webhook secret and dry-run record.",
    )
    log_format: LogFormat = Field(
        default=LogFormat.AUTO, description="json, console, or auto (console on a terminal)."
    )
    log_level: LogLevel = Field(
        default=LogLevel.INFO,
        description="Lowest level logged: debug, info, warning, error, critical.",
    )

    bot: BotConfig = Field(
        default_factory=BotConfig, description="What the bot does (policy, ...)."
    )

    @field_validator(
        "github_webhook_secrets",
        "mlflow_webhook_secrets",
        "gitlab_webhook_tokens",
        "gitlab_signing_secrets",
        "gitlab_status_check_secrets",
        "alertmanager_tokens",
        "argocd_webhook_tokens",
        "flux_webhook_secrets",
        mode="before",
    )
    @classmethod
    def _split_secrets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        # `INFO` and `info` mean the same; anything else is refused by the enum.
        return value.lower() if isinstance(value, str) else value

    @field_validator("github_api_url", "gitlab_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. https://api.github.com")
        return value.rstrip("/")

    @field_validator("mlflow_tracking_url")
    @classmethod
    def _mlflow_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. http://mlflow:5000")
        return value.rstrip("/") if value else value

    @field_validator("registry_urls")
    @classmethod
    def _registry_urls(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"registry {name!r}: the URL must start with http:// or https://")
        return {name: url.rstrip("/") for name, url in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.github_private_key and self.github_private_key_path:
            raise ValueError(
                "set FERRYBOT_GITHUB_PRIVATE_KEY or FERRYBOT_GITHUB_PRIVATE_KEY_PATH, not both"
            )
        has_key = bool(self.github_private_key or self.github_private_key_path)
        if has_key != (self.github_app_id is not None):
            raise ValueError(
                "GitHub App auth needs both FERRYBOT_GITHUB_APP_ID and a private key "
                "(FERRYBOT_GITHUB_PRIVATE_KEY or FERRYBOT_GITHUB_PRIVATE_KEY_PATH)"
            )
        if self.github_private_key_path and not self.github_private_key_path.is_file():
            raise ValueError(
                f"FERRYBOT_GITHUB_PRIVATE_KEY_PATH={self.github_private_key_path} is not a file"
            )
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError("SASL needs FERRYBOT_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD")
        return self

    @property
    def ledger_url(self) -> str:
        """The ledger's database URL: the setting, or SQLite in the state dir."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.state_dir / 'ledger.db').resolve()}"

    @property
    def embedded_broker(self) -> bool:
        """True when ferrybot starts its own broker."""
        return self.kafka_bootstrap_servers is None

    @property
    def has_github_credentials(self) -> bool:
        """True when App or token auth is configured."""
        return self.github_app_id is not None or self.github_token is not None

    @property
    def gitlab_dry_run(self) -> bool:
        """Dry run for GitLab: when asked, or when no GitLab token is configured."""
        return self.dry_run if self.dry_run is not None else self.gitlab_token is None

    @property
    def effective_dry_run(self) -> bool:
        """Dry run when asked, or when there is no way to authenticate to GitHub."""
        return self.dry_run if self.dry_run is not None else not self.has_github_credentials

    def private_key_pem(self) -> str | None:
        """The App private key, read from the setting or its file."""
        if self.github_private_key is not None:
            return self.github_private_key.get_secret_value()
        if self.github_private_key_path is not None:
            return self.github_private_key_path.read_text(encoding="utf-8")
        return None

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        secrets = [s.get_secret_value() for s in self.github_webhook_secrets]
        secrets += [s.get_secret_value() for s in self.mlflow_webhook_secrets]
        secrets += [s.get_secret_value() for s in self.gitlab_webhook_tokens]
        secrets += [s.get_secret_value() for s in self.gitlab_signing_secrets]
        secrets += [s.get_secret_value() for s in self.gitlab_status_check_secrets]
        secrets += [s.get_secret_value() for s in self.argocd_webhook_tokens]
        secrets += [s.get_secret_value() for s in self.flux_webhook_secrets]
        secrets += [s.get_secret_value() for s in self.registry_webhook_tokens.values()]
        secrets += [s.get_secret_value() for s in self.alertmanager_tokens]
        for credential in self.registry_credentials.values():
            # The password alone may appear too (in a basic-auth header it is base64 though).
            secrets += [credential.get_secret_value(), credential.get_secret_value().split(":")[-1]]
        secrets += self.bot.notifications.secret_values()
        for value in (
            self.github_token,
            self.gitlab_token,
            self.github_private_key,
            self.kafka_sasl_password,
            self.dockerhub_url_token,
            self.database_url,
            self.board_token,
        ):
            if value is not None:
                secrets.append(value.get_secret_value())
        return [s for s in secrets if s]


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings (overrides, then env, then the file), with one readable error."""
    data = _read_config_file(config_file) if config_file is not None else {}

    # The file's values sit under the environment's; a subclass is pydantic-settings' way to
    # add a source per call.
    class _WithFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _FileSource(settings_cls, data))

    where = _Origins(config_file, data, os.environ)
    try:
        return _WithFile(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, where)) from None
    except SourceParseError as exc:
        # pydantic-settings decodes JSON-valued variables itself and names only the field.
        match = re.search(r'field "(\w+)"', str(exc))
        names = where.undecodable(match.group(1)) if match else []
        raise SettingsError(
            "\n".join(f"invalid setting {name}: not valid JSON" for name in names)
            or "invalid settings: a JSON-valued variable is not valid JSON"
        ) from None


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"--config {path}: no such file")
    try:
        loaded = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel raises many types; all mean "not valid YAML"
        raise SettingsError(f"--config {path}: not valid YAML ({type(exc).__name__})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"--config {path}: must be a YAML mapping of settings")
    return loaded


class _Origins:
    """Names a setting as its user wrote it: the variable that is set, else the YAML key."""

    def __init__(
        self, config_file: Path | None, data: dict[str, Any], environ: Mapping[str, str]
    ) -> None:
        self._file = config_file
        self._data = data
        # pydantic-settings matches variable names case-insensitively.
        self._environ = {key.upper(): value for key, value in environ.items()}

    def undecodable(self, field: str) -> list[str]:
        """The variables of a field (or nested under it) whose value JSON cannot read."""
        prefix = f"FERRYBOT_{field.upper()}"
        names = []
        for variable, value in sorted(self._environ.items()):
            if variable != prefix and not variable.startswith(prefix + "__"):
                continue
            # A nested variable for a plain string field is not JSON and needs not be; only
            # one that reads as a list or object was meant as JSON.
            if variable != prefix and not value.lstrip().startswith(("{", "[")):
                continue
            try:
                json.loads(value)
            except ValueError:
                names.append(variable)
        return names

    def name(self, loc: tuple[str | int, ...]) -> str:
        parts = [str(part) for part in loc]
        for length in range(len(parts), 0, -1):
            variable = "FERRYBOT_" + "__".join(parts[:length]).upper()
            if variable in self._environ:
                return variable
        if self._file is not None and parts and parts[0] in self._data:
            return f"{'.'.join(parts)} in {self._file}"
        return "FERRYBOT_" + "__".join(parts).upper()


def _describe(exc: ValidationError, where: _Origins) -> str:
    lines = []
    for error in exc.errors():
        # Never echo the input: it may be a secret.
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            name = where.name(error["loc"])
            if error["type"] == "extra_forbidden" and name.startswith(PREFIX):
                unknown = check_variable(Settings, name)
                if unknown is not None and unknown.closest:
                    message += f": did you mean {unknown.closest}?"
            lines.append(f"invalid setting {name}: {message}")
        else:
            lines.append(f"invalid settings: {message}")
    return "\n".join(lines)
