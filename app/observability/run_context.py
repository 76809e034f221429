"""The run a log line is about: a context variable bound while one run is handled."""

from __future__ import annotations

import contextvars
import functools
import logging

_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("relay_run_id", default=None)


def bind_run_id(run_id: str) -> None:
    """Tag every later log line of the current scope with this run id (see run_log_scope)."""
    _run_id.set(run_id)


def run_log_scope(fn):
    """Drop whatever run id `fn` binds when it returns.

    Web requests and worker passes reuse pooled threads; without this, the next request or task
    on the same thread would log under the previous run's id.
    """

    @functools.wraps(fn)
    def scoped(*args, **kwargs):
        token = _run_id.set(_run_id.get())
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            # The caller (the worker loop) logs it after this scope: the error keeps the id.
            if getattr(err, "run_id", None) is None and _run_id.get() is not None:
                err.run_id = _run_id.get()
            raise
        finally:
            _run_id.reset(token)

    return scoped


class RunIdFilter(logging.Filter):
    """Adds `run_id` to each record made while a run is bound, unless the call gave its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        run_id = _run_id.get()
        if run_id is None and record.exc_info and record.exc_info[1] is not None:
            run_id = getattr(record.exc_info[1], "run_id", None)
        if run_id is not None and getattr(record, "run_id", None) is None:
            record.run_id = run_id
        return True
