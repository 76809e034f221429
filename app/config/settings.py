"""One Settings object from the environment; a bad value stops the start, naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.accounts.crypto import parse_keys
from app.config.callbacks import CallbackState, callback_mode
from app.config.processes import (
    check_sandbox_knobs,
    database_setting,
    listen_host,
    local_url,
    log_format,
    log_level,
)
from app.config.values import (
    DEFAULT_RETRY_SCHEDULE,
    ConfigError,
    env_flag,
    env_list,
    env_number,
    env_text,
    http_url,
    retry_schedule,
    whsec_secret,
)
from app.delivery.breaker import BreakerPolicy

# Fixed, loudly logged development defaults: sandbox mode only, never in live mode.
SANDBOX_RELAY_SECRET = "sandbox-relay-secret-not-for-production"  # noqa: S105
SANDBOX_FORWARD_SECRET = "whsec_c2FuZGJveC1mb3J3YXJkLXNlY3JldC0wMDAwMDA="  # noqa: S105


@dataclass(frozen=True)
class Settings:
    """Every knob of the relay, resolved and validated."""

    port: int = 8000
    bind_host: str = "127.0.0.1"
    web_concurrency: int = 2
    web_threads: int = 8
    log_format: str = "json"
    log_level: str = "INFO"
    instance_dir: str = "instance"
    zapier_api_base: str = ""
    zapier_access_token: str | None = None
    public_base_url: str = ""
    database_url: str = ""
    relay_api_keys: tuple[str, ...] = ()
    relay_secret: str = SANDBOX_RELAY_SECRET
    forward_urls: tuple[str, ...] = ()
    forward_secret: str | None = None
    forward_allow_private: bool = False
    forward_retry_schedule: tuple[int, ...] = DEFAULT_RETRY_SCHEDULE
    forward_timeout_seconds: float = 15.0
    callback_grace_seconds: float = 60.0
    poll_max_interval_seconds: float = 300.0
    run_max_age_seconds: float = 604800.0
    zapier_get_limit: int = 600
    zapier_run_limit: int = 200
    zapier_rate_window_seconds: float = 300.0
    zapier_callback_jwks_url: str | None = None
    max_body_bytes: int = 5 * 1024 * 1024
    worker_threads: int = 4
    worker_lease_seconds: float = 60.0
    worker_idle_seconds: float = 15.0
    sandbox_database_url: str = ""
    trusted_proxies: int = 0
    v2_callbacks: bool = False
    callbacks: CallbackState = CallbackState.ON  # CALLBACKS resolved; off: polling only
    callbacks_reason: str = "auto: sandbox mode"
    worker_metrics_port: int = 0
    zap_watch_interval_seconds: float = 60.0
    forward_max_in_flight: int = 256
    forward_target_max_in_flight: int = 16
    forward_breaker_failures: int = 5
    forward_breaker_cooldown_seconds: float = 30.0
    trigger_wait_seconds: float = 2.5
    metrics_token: str | None = None
    metrics_account_labels: bool = True  # false: budgets summed, no `account` label
    retention_days: float = 30.0  # 0: keep everything forever
    webhook_disable_after_seconds: float = 432000.0
    webhook_secret_overlap_seconds: float = 86400.0
    ops_webhook_urls: tuple[str, ...] = ()
    ops_webhook_secret: str | None = None
    relay_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def sandbox(self) -> bool:
        return not self.zapier_access_token

    @property
    def mode(self) -> str:
        return "sandbox" if self.sandbox else "live"

    @property
    def callbacks_on(self) -> bool:
        """Runs carry a callback_url upstream (v2 action runs only with V2_CALLBACKS too)."""
        return self.callbacks is CallbackState.ON

    @property
    def breaker(self) -> BreakerPolicy:
        return BreakerPolicy(
            failures_to_open=self.forward_breaker_failures,
            base_cooldown=self.forward_breaker_cooldown_seconds,
        )

    @property
    def api_open(self) -> bool:
        """The client API needs no key only in sandbox mode with no keys configured."""
        return self.sandbox and not self.relay_api_keys


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment (or a given mapping) into Settings."""
    env = os.environ if env is None else env
    port = env_number(env, "PORT", 8000, int, 1, 65535)
    token = env_text(env, "ZAPIER_ACCESS_TOKEN")
    sandbox = token is None
    host = listen_host(env, sandbox)
    warnings: list[str] = []

    public = env_text(env, "PUBLIC_BASE_URL")
    if public is None:
        if not sandbox:
            raise ConfigError(
                "PUBLIC_BASE_URL: required in live mode (the relay's public https URL)"
            )
        public = local_url(host, port)
    public = http_url("PUBLIC_BASE_URL", public)
    callbacks = callback_mode(env, sandbox, public)
    if callbacks.warning:
        warnings.append(callbacks.warning)

    api_base = env_text(env, "ZAPIER_API_BASE")
    if api_base is None:
        api_base = f"{public}/sandbox" if sandbox else "https://api.zapier.com"
    api_base = http_url("ZAPIER_API_BASE", api_base)

    keys = env_list(env, "RELAY_API_KEYS")
    if not sandbox and not keys:
        raise ConfigError("RELAY_API_KEYS: required in live mode (comma-separated client keys)")
    secret = env_text(env, "RELAY_SECRET")
    if secret is None:
        if not sandbox:
            raise ConfigError("RELAY_SECRET: required in live mode (a long random string)")
        secret = SANDBOX_RELAY_SECRET
    elif len(secret) < 16:
        raise ConfigError("RELAY_SECRET: expected at least 16 characters")

    forward_urls = tuple(http_url("FORWARD_URLS", url) for url in env_list(env, "FORWARD_URLS"))
    forward_secret = whsec_secret(env_text(env, "FORWARD_SECRET"), "FORWARD_SECRET")
    if forward_secret is None and sandbox:
        forward_secret = SANDBOX_FORWARD_SECRET
    if forward_urls and forward_secret is None:
        raise ConfigError("FORWARD_SECRET: required with FORWARD_URLS (a whsec_... secret)")

    jwks = env_text(env, "ZAPIER_CALLBACK_JWKS_URL")
    instance = Path(env_text(env, "RELAY_INSTANCE_DIR") or Path.cwd() / "instance")
    database_url = database_setting(
        env, "DATABASE_URL", f"sqlite:///{instance / 'relay.db'}", instance
    )
    sandbox_db = database_setting(
        env, "SANDBOX_DATABASE_URL", f"sqlite:///{instance / 'sandbox.db'}", instance
    )
    check_sandbox_knobs(env)

    ops_urls = tuple(http_url("OPS_WEBHOOK_URLS", u) for u in env_list(env, "OPS_WEBHOOK_URLS"))
    ops_secret = whsec_secret(env_text(env, "OPS_WEBHOOK_SECRET"), "OPS_WEBHOOK_SECRET")
    if ops_urls and ops_secret is None:
        raise ConfigError("OPS_WEBHOOK_SECRET: required with OPS_WEBHOOK_URLS (a whsec_... secret)")

    return Settings(
        port=port,
        bind_host=host,
        web_concurrency=env_number(env, "WEB_CONCURRENCY", 2, int, 1),
        web_threads=env_number(env, "WEB_THREADS", 8, int, 1),
        log_format=log_format(env),
        log_level=log_level(env),
        instance_dir=str(instance),
        zapier_api_base=api_base,
        zapier_access_token=token,
        public_base_url=public,
        database_url=database_url,
        relay_api_keys=keys,
        relay_secret=secret,
        forward_urls=forward_urls,
        forward_secret=forward_secret,
        # The sandbox demo forwards to a receiver on loopback; live mode guards by default.
        forward_allow_private=env_flag(env, "FORWARD_ALLOW_PRIVATE", default=sandbox),
        forward_retry_schedule=retry_schedule(env),
        forward_timeout_seconds=env_number(env, "FORWARD_TIMEOUT_SECONDS", 15.0, float, 0.1),
        callback_grace_seconds=env_number(env, "CALLBACK_GRACE_SECONDS", 60.0),
        poll_max_interval_seconds=env_number(env, "POLL_MAX_INTERVAL_SECONDS", 300.0, float, 0.1),
        run_max_age_seconds=env_number(env, "RUN_MAX_AGE_SECONDS", 604800.0, float, 1),
        zapier_get_limit=env_number(env, "ZAPIER_GET_LIMIT", 600, int, 1),
        zapier_run_limit=env_number(env, "ZAPIER_RUN_LIMIT", 200, int, 1),
        zapier_rate_window_seconds=env_number(env, "ZAPIER_RATE_WINDOW_SECONDS", 300.0, float, 1),
        zapier_callback_jwks_url=http_url("ZAPIER_CALLBACK_JWKS_URL", jwks) if jwks else None,
        max_body_bytes=env_number(env, "MAX_BODY_BYTES", 5 * 1024 * 1024, int, 1024),
        worker_threads=env_number(env, "WORKER_THREADS", 4, int, 1),
        worker_lease_seconds=env_number(env, "WORKER_LEASE_SECONDS", 60.0, float, 1),
        # New work wakes idle workers at once (NOTIFY, the SQLite commit watch) and timed work
        # by its due time, so this bound only covers a lost wake-up.
        worker_idle_seconds=env_number(env, "WORKER_IDLE_SECONDS", 15.0, float, 0.01),
        sandbox_database_url=sandbox_db,
        trusted_proxies=env_number(env, "TRUSTED_PROXIES", 0, int, 0),
        v2_callbacks=env_flag(env, "V2_CALLBACKS"),
        callbacks=callbacks.state,
        callbacks_reason=callbacks.reason,
        worker_metrics_port=env_number(env, "WORKER_METRICS_PORT", 0, int, 0, 65535),
        zap_watch_interval_seconds=env_number(env, "ZAP_WATCH_INTERVAL_SECONDS", 60.0, float, 1),
        forward_max_in_flight=env_number(env, "FORWARD_MAX_IN_FLIGHT", 256, int, 1),
        forward_target_max_in_flight=env_number(env, "FORWARD_TARGET_MAX_IN_FLIGHT", 16, int, 1),
        forward_breaker_failures=env_number(env, "FORWARD_BREAKER_FAILURES", 5, int, 1),
        forward_breaker_cooldown_seconds=env_number(
            env, "FORWARD_BREAKER_COOLDOWN_SECONDS", 30.0, float, 0.1
        ),
        trigger_wait_seconds=env_number(env, "TRIGGER_WAIT_SECONDS", 2.5, float, 0.1),
        metrics_token=env_text(env, "METRICS_TOKEN"),
        metrics_account_labels=env_flag(env, "METRICS_ACCOUNT_LABELS", default=True),
        retention_days=env_number(env, "RETENTION_DAYS", 30.0),
        webhook_disable_after_seconds=env_number(
            env, "WEBHOOK_DISABLE_AFTER_SECONDS", 432000.0, float, 1
        ),
        webhook_secret_overlap_seconds=env_number(
            env, "WEBHOOK_SECRET_OVERLAP_SECONDS", 86400.0, float, 0
        ),
        relay_encryption_keys=encryption_keys(env),
        ops_webhook_urls=ops_urls,
        ops_webhook_secret=ops_secret,
        warnings=tuple(warnings),
    )


def encryption_keys(env) -> tuple[str, ...]:
    """RELAY_ENCRYPTION_KEYS, comma-separated Fernet keys; a malformed one stops the start."""
    keys = env_list(env, "RELAY_ENCRYPTION_KEYS")
    try:
        parse_keys(keys)
    except ValueError as err:
        raise ConfigError(f"RELAY_ENCRYPTION_KEYS: {err}") from None
    return keys
