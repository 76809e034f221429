"""Receiving a callback: token, signature, schema, id; stored durably before any 2xx."""

from __future__ import annotations

import json
import logging
import time

from app.errors import Conflict, Forbidden, NotFound, Unavailable
from app.observability.event_metrics import observe_callback
from app.observability.run_context import bind_run_id, run_log_scope
from app.runs.callback_signature import HEADER, verify_callback_signature
from app.runs.report_decisions import foreign_run_id
from app.runs.reports import apply_report
from app.runs.states import RunKind
from app.runs.tokens import token_matches
from app.schemas.action_runs import ActionRunResponse
from app.schemas.loading import json_object, load_value
from app.schemas.stored_actions import StoredActionResult
from app.store import runs_repo
from app.store.engine import DatabaseError, write

log = logging.getLogger(__name__)
KEPT_HEADERS = ("Content-Type", "User-Agent", "Content-Length", "X-Forwarded-For")
# Built once: a marshmallow schema keeps no per-load state, and building one costs 3x a load.
SCHEMAS = {RunKind.ACTION_RUN: ActionRunResponse(), RunKind.STORED_ACTION: StoredActionResult()}


@run_log_scope
def receive_callback(services, run_id: str, token: str, raw: bytes, headers) -> str:
    """Validate and store one callback; returns the verdict. Raises a RelayError if refused."""
    settings = services.settings
    bind_run_id(run_id[:64])  # forged ones too: the id in the URL is what they are about
    if not token_matches(settings.relay_secret, run_id, token):
        log.warning("callback with a forged token: refused (403)")
        raise Forbidden("forbidden", "This callback URL is not valid.")
    verified = False
    if settings.zapier_callback_jwks_url:
        verify_callback_signature(settings.zapier_callback_jwks_url, headers)
        verified = True
    # All that needs no run is done before the write transaction: on SQLite it holds the lock.
    body = json_object(raw)
    row = {
        "run_id": run_id,
        "body": raw.decode("utf-8"),
        "headers_json": json.dumps(_kept_headers(headers)),
        "signature_verified": verified,
    }
    try:
        # One transaction: the run is read, the body checked against it and the outcome
        # written under one lock; a check that fails raises, so nothing is written.
        with write(services.engine) as conn:
            run, verdict = _check_and_store(conn, run_id, body, row, settings)
    except DatabaseError:
        log.exception("callback could not be stored: answered 503 so upstream retries")
        # Not stored: a 5xx, so upstream retries (and polling catches the rest).
        raise Unavailable("unavailable", "The callback could not be stored; retry.") from None
    observe_callback(run, verdict, row["received_at"])
    log.info("callback: %s", verdict)
    return verdict


def _check_and_store(conn, run_id: str, body: dict, row: dict, settings) -> tuple[dict, str]:
    run = runs_repo.get_run(conn, run_id)
    if run is None:
        raise NotFound("not_found", "No such run.")
    loaded = load_value(SCHEMAS[run["kind"]], body)
    reported_id = str(loaded["id"]) if loaded.get("id") is not None else None
    if foreign_run_id(run, loaded) is not None:  # a poll answer's rule too (report_decisions)
        raise Conflict(
            "run_mismatch", "The body's id is not this run's upstream id.", pointer="/id"
        )
    if run["upstream_run_id"] is None and reported_id:
        # Upstream called back before its 202 reached us; the URL token proves the origin.
        runs_repo.update_run(conn, run_id, upstream_run_id=reported_id)
        run["upstream_run_id"] = reported_id
    now = time.time()
    grace = settings.callback_grace_seconds
    verdict = apply_report(conn, run, body, row["body"], "callback", now, grace)
    row.update(received_at=now, verdict=verdict, status=_reported_status(run, loaded))
    runs_repo.insert_callback(conn, row)
    return run, verdict


def _reported_status(run: dict, loaded: dict) -> str | None:
    # The schema checked only this kind's status; any other field of that name is unknown.
    if run["kind"] == RunKind.ACTION_RUN:
        return loaded["data"]["status"]
    return loaded.get("status")


def _kept_headers(headers) -> dict:
    kept = {name: headers.get(name) for name in KEPT_HEADERS if headers.get(name)}
    kept[HEADER] = "present" if headers.get(HEADER) else "absent"
    return kept
