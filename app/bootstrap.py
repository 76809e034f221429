"""The per-process container of engine, account tokens, upstream gateway, budget, grace and
poll plans; built after fork."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from app.accounts.tokens import AccountTokens
from app.config.settings import Settings
from app.delivery.ops_events import budget_alarm
from app.runs.callback_grace import CallbackGrace
from app.runs.learned_plans import LearnedPlans
from app.store.engine import Engine, build_engine, write
from app.store.schema_version import check_current
from app.store.webhooks_repo import sync_env_webhooks
from app.upstream.budget import RateBudget
from app.upstream.client import UpstreamClient
from app.upstream.gateway import UpstreamGateway


@dataclass
class Services:
    """What a request or a worker task needs besides its arguments."""

    settings: Settings
    engine: Engine
    gateway: UpstreamGateway
    budget: RateBudget
    grace: CallbackGrace
    tokens: AccountTokens
    plans: LearnedPlans

    def close(self) -> None:
        self.gateway.client.close()
        self.engine.dispose()


def build_services(settings: Settings, pool_size: int = 10) -> Services:
    engine = build_engine(settings.database_url, pool_size=pool_size)
    try:
        check_current(engine)  # migrations are `relay db upgrade`'s job, never a side effect
    except Exception:
        engine.dispose()
        raise
    with write(engine) as conn:
        now = time.time()
        sync_env_webhooks(conn, settings.forward_urls, settings.forward_secret, now)
        sync_env_webhooks(conn, settings.ops_webhook_urls, settings.ops_webhook_secret, now, "ops")
    budget = RateBudget(
        engine,
        {"get": settings.zapier_get_limit, "run": settings.zapier_run_limit},
        window_seconds=settings.zapier_rate_window_seconds,
    )
    # Each call carries its account's token: ZAPIER_ACCESS_TOKEN is the account "default".
    tokens = AccountTokens(engine, settings)
    client = UpstreamClient(settings.zapier_api_base)
    alarm = None
    if settings.ops_webhook_urls:
        window, cap = settings.zapier_rate_window_seconds, settings.poll_max_interval_seconds
        alarm = budget_alarm(engine, budget.limits, window, cap)
    gateway = UpstreamGateway(client, budget, engine, tokens, on_budget_spent=alarm)
    grace = CallbackGrace(engine, settings.callback_grace_seconds)
    plans = LearnedPlans(engine, settings.poll_max_interval_seconds, budget)
    return Services(settings, engine, gateway, budget, grace, tokens, plans)


class LazyServices:
    """Built on first use in each process: gunicorn forks after create_app(), engines must not."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._services: Services | None = None

    def get(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = build_services(self.settings)
        return self._services

    def close(self) -> None:
        """Dispose of what was built (tests and shutdown); a later get() builds anew."""
        with self._lock:
            built, self._services = self._services, None
        if built is not None:
            built.close()
