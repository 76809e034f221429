"""Triggering a run: stored before any upstream call, then one immediate submission attempt."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid

from app.accounts.selection import choose_account
from app.delivery.ssrf_guard import UnsafeTarget, check_target
from app.errors import Conflict, InvalidInput
from app.observability.run_context import bind_run_id, run_log_scope
from app.runs.public_results import raise_if_refused
from app.runs.states import RunKind, RunState
from app.runs.submission import apply_submit_outcome, submit
from app.store import runs_repo
from app.store.engine import DatabaseError, write

log = logging.getLogger(__name__)
IDEMPOTENCY_NAMESPACE = uuid.UUID("8f0c5a52-3c39-4a43-9b0e-6a1f3f0f0d11")
TRIGGER_LEASE_SECONDS = 60.0


def idempotency_id_for(body_id, header_key: str | None) -> str:
    """The body's UUID wins; an Idempotency-Key header that is not a UUID is mapped to one."""
    if body_id is not None:
        return str(body_id)
    if header_key:
        try:
            return str(uuid.UUID(header_key))
        except ValueError:
            return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, header_key))
    return str(uuid.uuid4())


def trigger_stored_action(
    services, stored_action_id: str, data: dict, idempotency_key: str | None
) -> dict:
    """POST .../stored-actions/<id>/run: the stored run (or its twin); a refusal raises."""
    idem = idempotency_id_for(data.get("idempotency_id"), idempotency_key)
    fields = {
        "stored_action_id": stored_action_id,
        "callback_url": data.get("callback_url"),
        "metadata": data.get("metadata"),
        "account": data.get("account"),
    }
    upstream_data = {"inputs": data["inputs"]}
    if "page" in data:
        upstream_data["page"] = data["page"]
    key_pointer = "/data/idempotency_id" if data.get("idempotency_id") is not None else None
    run = trigger_run(services, RunKind.STORED_ACTION, fields, upstream_data, idem, key_pointer)
    return raise_if_refused(run)


def trigger_action_run(services, data: dict, idempotency_key: str | None) -> dict:
    """POST /v2/action-runs: the stored run (or its twin); a refusal raises."""
    idem = idempotency_id_for(None, idempotency_key)
    fields = {
        "action": data["action"],
        "authentication": data["authentication"],
        "callback_url": data.get("callback_url"),
        "metadata": data.get("metadata"),
        "account": data.get("account"),
    }
    upstream_data = {k: data[k] for k in ("action", "authentication", "inputs")}
    run = trigger_run(services, RunKind.ACTION_RUN, fields, upstream_data, idem)
    return raise_if_refused(run)


@run_log_scope
def trigger_run(
    services,
    kind: RunKind,
    fields: dict,
    request_data: dict,
    idem: str,
    key_pointer: str | None = None,
) -> dict:
    """Store the run (or find its twin by idempotency key), try to submit it, return it.

    `fields` are the run's own columns (stored_action_id or action/authentication, callback_url,
    metadata) and the account named (None: `default`); `request_data` is what goes upstream
    less callback_url and idempotency_id.
    `key_pointer` is where the idempotency key came from when it was in the body.
    """
    settings = services.settings
    if fields.get("callback_url"):
        if not settings.forward_secret:
            raise InvalidInput(
                "invalid",
                "data.callback_url needs FORWARD_SECRET configured",
                pointer="/data/callback_url",
            )
        try:
            check_target(fields["callback_url"], settings.forward_allow_private)
        except UnsafeTarget as err:
            raise InvalidInput("unsafe_target", str(err), pointer="/data/callback_url") from None
    now = time.time()
    owner = f"web:{os.getpid()}"
    row = {
        "id": str(uuid.uuid4()),
        "kind": RunKind(kind).value,
        "stored_action_id": fields.get("stored_action_id"),
        "action": fields.get("action"),
        "authentication": fields.get("authentication"),
        "request_json": json.dumps(request_data),
        "idempotency_id": idem,
        "callback_url": fields.get("callback_url"),
        "metadata_json": json.dumps(fields.get("metadata") or {}),
        "state": RunState.QUEUED.value,
        "created_at": now,
        "updated_at": now,
        "next_submit_at": now,
        "submit_attempts": 0,
        "poll_count": 0,
        "not_found_count": 0,
        "throttle_count": 0,
        # Said until the submission's answer is written: a web process killed mid-request
        # leaves a run that explains itself, and a worker takes it when the lease lapses.
        "reason": "being submitted upstream",
        # Held while this request submits, so a worker does not submit it at the same time.
        "lease_until": now + TRIGGER_LEASE_SECONDS,
        "lease_owner": owner,
    }
    with write(services.engine) as conn:
        row["account_id"] = choose_account(conn, settings, fields.get("account"), "/data/account")
        inserted = runs_repo.insert_run(conn, row)
        if not inserted:
            existing = runs_repo.find_by_idempotency(conn, kind, idem)
    if not inserted:
        return _same_request_or_conflict(existing, row, key_pointer)
    bind_run_id(row["id"])
    # The client waits at most TRIGGER_WAIT_SECONDS for upstream; past that the run is queued
    # and the worker submits it with the same idempotency_id (a 202 either way).
    outcome = submit(services, row, settings.trigger_wait_seconds)
    try:
        return apply_submit_outcome(services, row, outcome, time.time(), owner, forward=False)
    except DatabaseError:
        # The run is stored: answer with it (202) rather than a 5xx that invites a retry
        # creating a second run. Its lease lapses and a worker resubmits it with the same
        # idempotency_id, which upstream answers with the run it already has.
        log.exception("run %s: the submission's answer could not be stored", row["id"])
        return row


def _same_request_or_conflict(existing: dict, row: dict, key_pointer: str | None) -> dict:
    """The stored twin when this is a repeat of its request; a key reused for another request
    is a 409, as payment APIs answer, rather than the first run under the wrong body."""
    for key in ("stored_action_id", "action"):
        if row[key] != existing[key]:
            raise Conflict(
                "idempotency_conflict",
                f"this idempotency key was already used for another run ({existing['id']})",
            )
    if _request_of(row) != _request_of(existing):
        raise Conflict(
            "idempotency_conflict",
            f"this idempotency key was already used with a different request body (run "
            f"{existing['id']}): repeat that exact request to get its run, or use a new key",
            pointer=key_pointer,
        )
    return existing


def _request_of(run: dict) -> tuple:
    # Compared as JSON values, not text: key order and spacing do not make a new request.
    return (
        json.loads(run["request_json"]),
        json.loads(run["metadata_json"] or "{}"),
        run["callback_url"],
        run["authentication"],
        run["account_id"],
    )
