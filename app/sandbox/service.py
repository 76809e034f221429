"""The sandbox itself: one object per app holding the lazy engine, knobs, key and dispatcher."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, delete

from app.sandbox import (
    callback_queue,
    knobs,
    outcome,
    rate_stats,
    ratelimit,
    state,
    tokens,
    zap_runs_endpoint,
)
from app.sandbox.dispatcher import Dispatcher
from app.sandbox.signing import SigningKey, load_or_create_key
from app.sandbox.tables import create_schema, knob_overrides
from app.store.engine import build_engine, read, write

IDEMPOTENCY_SECONDS = 72 * 3600


class RunNotFound(LookupError):
    """No such run for this API (unknown, another API's or stored action's, or expired)."""


class Sandbox:
    """Everything lives in the database, so every process serving /sandbox agrees; only
    the engine, the dispatcher and a cache of the signing key are per process."""

    def __init__(
        self,
        database_url: str,
        env: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database_url = database_url
        self.knob_defaults = knobs.from_env(env)
        self.clock = clock
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._engine: Engine | None = None
        self._dispatcher: Dispatcher | None = None
        self._key: SigningKey | None = None
        self._faults = random.Random()
        self.zap_runs = zap_runs_endpoint.ZapRuns(self)

    # -- per-process resources ------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None or self._pid != os.getpid():
            with self._lock:
                if self._engine is None or self._pid != os.getpid():
                    if self._engine is not None:
                        # A forked child must not use, nor close, its parent's connections.
                        self._engine.dispose(close=False)
                    self._engine = build_engine(self.database_url)
                    self._dispatcher = None
                    self._pid = os.getpid()
                    create_schema(self._engine)
        return self._engine

    def ensure_started(self) -> None:
        """Engine and dispatcher for this process, built on the first request after a fork."""
        engine = self.engine
        if self._dispatcher is None:
            with self._lock:
                if self._dispatcher is None:
                    # Through a lambda: tests may swap `clock` for a fake one at any time.
                    self._dispatcher = Dispatcher(
                        engine, self.signing_key, lambda: self.clock(), self.purge_expired
                    )
                    self._dispatcher.start()

    def close(self) -> None:
        """Stop this process's dispatcher and close its connections (tests, shutdown)."""
        with self._lock:
            if self._dispatcher is not None and self._pid == os.getpid():
                self._dispatcher.stop()
            self._dispatcher = None
            if self._engine is not None:
                self._engine.dispose()
            self._engine = None

    def signing_key(self) -> SigningKey:
        if self._key is None:
            self._key = load_or_create_key(self.engine, self.clock())
        return self._key

    # -- knobs and rate windows -----------------------------------------------------------

    def knobs(self) -> dict[str, Any]:
        with read(self.engine) as conn:
            return {**self.knob_defaults, **state.load_knob_overrides(conn)}

    def reset_knobs(self) -> None:
        """Back to SANDBOX_* (or the defaults), once per start of the service: a fault knob set
        in an earlier session must not carry on silently (deploy/gunicorn.conf.py, standalone)."""
        with write(self.engine) as conn:
            conn.execute(delete(knob_overrides))

    def change_knobs(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply validated changes for every process; raises knobs.KnobError."""
        validated = knobs.merge({}, changes)
        with write(self.engine) as conn:
            state.save_knob_overrides(conn, validated)
            if "zap_runs_per_minute" in validated:
                zap_runs_endpoint.restart_generation(conn, self.clock())
            return {**self.knob_defaults, **state.load_knob_overrides(conn)}

    def admit(self, bucket: str, token: str) -> tuple[ratelimit.Decision, dict[str, Any]]:
        """Count a request against its token's bucket (one write transaction) and draw fault
        bursts; a revoked token's request is counted as a 401 (Decision.revoked)."""
        now = self.clock()
        name = tokens.fingerprint(token)
        with write(self.engine) as conn:
            current = {**self.knob_defaults, **state.load_knob_overrides(conn)}
            limit = tokens.limit_for(token, bucket, current)
            window = current["window_seconds"]
            if tokens.is_revoked(conn, name):
                decision = ratelimit.refuse_unauthorized(conn, name, bucket, limit, window, now)
                return decision, current
            burst = ratelimit.draw_burst(
                self._faults, current["rate_429_burst"], current["rate_503_burst"]
            )
            decision = ratelimit.admit(conn, name, bucket, limit, window, now, burst=burst)
        return decision, current

    def peek(self, bucket: str, token: str = "") -> ratelimit.Decision:
        current = self.knobs()
        limit = tokens.limit_for(token, bucket, current)
        with read(self.engine) as conn:
            return ratelimit.peek(
                conn,
                tokens.fingerprint(token),
                bucket,
                limit,
                current["window_seconds"],
                self.clock(),
            )

    def revoke_token(self, token_fingerprint: str) -> None:
        """From now on the token answers 401 (for every process), until restored or reset."""
        with write(self.engine) as conn:
            tokens.revoke(conn, token_fingerprint, self.clock())

    def restore_token(self, token_fingerprint: str) -> bool:
        with write(self.engine) as conn:
            return tokens.restore(conn, token_fingerprint)

    def revoked_tokens(self) -> list[str]:
        with read(self.engine) as conn:
            return tokens.revoked(conn)

    # -- runs -----------------------------------------------------------------------------

    def create_run(
        self, kind: str, current: Mapping[str, Any], *, idempotency_id=None, **request: Any
    ) -> str:
        """A new run (or, for a fresh idempotency key, the original run's id)."""
        run_id, now = str(uuid.uuid4()), self.clock()
        plan = outcome.plan_run(kind, run_id, now, current, **request)
        with write(self.engine) as conn:
            if idempotency_id is not None:
                original = state.claim_idempotency_key(
                    conn,
                    request["stored_action_id"],
                    str(idempotency_id),
                    run_id,
                    now,
                    cutoff=now - IDEMPOTENCY_SECONDS,
                )
                if original != run_id:
                    return original
            state.insert_run(conn, plan, request.get("callback_url"))
        if plan.callbacks and self._dispatcher is not None:
            self._dispatcher.wake()
        return run_id

    def find_result(
        self,
        kind: str,
        run_id: str,
        current: Mapping[str, Any],
        stored_action_id: str | None = None,
    ) -> tuple[bool, str]:
        """(done, body) for a run of this API; `body` is the waiting answer until done."""
        with read(self.engine) as conn:
            row = state.find_run(conn, run_id)
        now = self.clock()
        if (
            row is None
            or row.kind != kind
            or row.stored_action_id != stored_action_id
            or now - row.created_at > current["retention_seconds"]
        ):
            raise RunNotFound(run_id)
        if now < row.done_at:
            return False, outcome.waiting_body(kind, run_id)
        if kind == outcome.STORED_ACTION and self._faults.random() < current["poll_foreign_id"]:
            return True, outcome.with_foreign_id(row.result_json)
        return True, row.result_json

    # -- admin ----------------------------------------------------------------------------

    def reset(self) -> None:
        with write(self.engine) as conn:
            state.forget_everything(conn)

    def stats(self) -> dict[str, Any]:
        with read(self.engine) as conn:
            by_kind = state.runs_by_kind(conn)
            counts = callback_queue.callback_counts(conn)
            buckets, per_token = rate_stats.window_stats(conn)
        return {
            "runs": {kind: by_kind.get(kind, 0) for kind in outcome.KINDS},
            "callbacks": counts,
            "rate": buckets,
            "answered_429": sum(b["answered_429"] for b in buckets.values()),
            "answered_503": sum(b["answered_503"] for b in buckets.values()),
            "answered_401": sum(b["answered_401"] for b in buckets.values()),
            # By token fingerprint (app.accounts.crypto.fingerprint): each token's windows.
            "tokens": per_token,
            "zap_runs": self.zap_runs.stats(),
        }

    def purge_expired(self) -> None:
        now = self.clock()
        retention = self.knobs()["retention_seconds"]
        with write(self.engine) as conn:
            state.forget_expired(conn, now - retention, now - IDEMPOTENCY_SECONDS)
