"""The per-process service container: engine, upstream gateway, budget; built after fork."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine

from app.config import Settings
from app.store.engine import build_engine, write
from app.store.schema_version import check_current
from app.store.webhooks_repo import sync_env_webhooks


@dataclass
class Services:
    settings: Settings
    engine: Engine
    gateway: object
    budget: object
    grace: object  # app.runs.grace.CallbackGrace

    def close(self) -> None:
        self.engine.dispose()


def build_services(settings: Settings, pool_size: int = 10) -> Services:
    from app.runs.grace import CallbackGrace
    from app.upstream.budget import RateBudget
    from app.upstream.client import UpstreamClient
    from app.upstream.gateway import UpstreamGateway

    engine = build_engine(settings.database_url, pool_size=pool_size)
    try:
        check_current(engine)  # migrations are `relay db upgrade`'s job, never a side effect
    except Exception:
        engine.dispose()
        raise
    with write(engine) as conn:
        sync_env_webhooks(conn, settings.forward_urls, settings.forward_secret, time.time())
    budget = RateBudget(
        engine,
        {"get": settings.zapier_get_limit, "run": settings.zapier_run_limit},
        window_seconds=settings.zapier_rate_window_seconds,
    )
    client = UpstreamClient(settings.zapier_api_base, settings.zapier_access_token or "sandbox")
    gateway = UpstreamGateway(client, budget, engine)
    grace = CallbackGrace(engine, settings.callback_grace_seconds)
    return Services(settings, engine, gateway, budget, grace)


class _LazyServices:
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


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["relay.services"] = _LazyServices(settings)


def get_services() -> Services:
    return current_app.extensions["relay.services"].get()
