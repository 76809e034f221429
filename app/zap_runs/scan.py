"""One step of a watch's scan: fetch one page of GET /v2/zap-runs, record it, move the mark.

A scan pages from the watch's high-water mark (`from_date`) with `offset` until a page comes
back empty or without `links.next`. Each page is written in one transaction together with the
scan's new offset, so a worker killed mid-scan resumes at the next page; events are unique per
(Zap run, status), so a page seen twice forwards nothing twice.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

from app.accounts.selection import DEFAULT_ACCOUNT
from app.delivery.run_events import iso
from app.schemas.zap_runs_contract import FINISHED_STATUSES
from app.store import zap_repo
from app.store.engine import write
from app.upstream import outcomes as oc
from app.zap_runs.events import record_status, watch_targets

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)
PAGE_SIZE = 100
# Each scan starts this far before the newest run seen: runs that show up late are not missed.
LATE_ARRIVAL_SECONDS = 60.0
# Unfinished runs keep the mark back (to see them finish) for at most this long.
OPEN_LOOKBACK_SECONDS = 86400.0
RETRY_SECONDS = 30.0


def scan_params(watch: dict) -> dict:
    params = {"from_date": iso(watch["scan_from"]), "limit": PAGE_SIZE}
    params["offset"] = watch["scan_offset"]
    statuses = json.loads(watch["statuses_json"] or "[]")
    if statuses:
        params["statuses"] = ",".join(statuses)  # style form, explode false
    if watch["search"]:
        params["search"] = watch["search"]
    if watch["zap_id"] is not None:
        params["zap_id"] = watch["zap_id"]
    return params


def begin_scan(watch: dict) -> dict:
    """The watch with a scan in progress: resumed where it stopped, or started at the mark."""
    if watch["scan_offset"] is not None:
        return watch
    return {
        **watch,
        "scan_from": watch["from_date"],
        "scan_offset": 0,
        "scan_newest": None,
        "scan_oldest_open": None,
    }


def watch_step(services: Services, watch: dict, owner: str, now: float) -> str:
    """Fetch and record one page for a leased watch; returns a short verdict."""
    watch = begin_scan(watch)
    account = watch.get("account_id") or DEFAULT_ACCOUNT
    outcome = services.gateway.list_zap_runs(watch["id"], scan_params(watch), account=account)
    with write(services.engine) as conn:
        match outcome:
            case oc.Result(raw=raw):
                values, verdict = _record_page(conn, watch, json.loads(raw), now, services)
            case _:
                values, verdict = _later(watch, outcome, now)
        zap_repo.release_watch(conn, watch["id"], owner, updated_at=now, **values)
    log.info("zap watch %s: %s", watch["id"], verdict)
    return verdict


def _record_page(conn, watch: dict, body, now: float, services: Services) -> tuple[dict, str]:
    page = (body[0] if body else {}) if isinstance(body, list) else body
    items = page.get("data") or []
    targets = watch_targets(conn, watch)
    newest, oldest_open, new_runs = watch["scan_newest"], watch["scan_oldest_open"], 0
    for run in items:
        started = _timestamp(run.get("start_time"))
        previous = zap_repo.upsert_zap_run(conn, _row(run, started, now))
        new_runs += previous is None
        record_status(conn, watch, run, previous, targets, now)
        if started is not None:
            newest = started if newest is None else max(newest, started)
            recent = started >= now - OPEN_LOOKBACK_SECONDS
            if run["status"] not in FINISHED_STATUSES and recent:
                oldest_open = started if oldest_open is None else min(oldest_open, started)
    values = {
        "scan_from": watch["scan_from"],
        "scan_newest": newest,
        "scan_oldest_open": oldest_open,
        "runs_seen": watch["runs_seen"] + new_runs,
        "last_error": None,
    }
    next_link = (page.get("links") or {}).get("next")
    if items and next_link:
        step = watch["scan_offset"] + len(items)
        values["scan_offset"] = max(step, _next_offset(next_link, step))
        values["next_poll_at"] = now  # the next page at once
        return values, f"page at offset {watch['scan_offset']}: {len(items)} runs"
    marks = [oldest_open] if oldest_open is not None else []
    marks.append(newest - LATE_ARRIVAL_SECONDS if newest is not None else watch["scan_from"])
    values.update(
        from_date=max(watch["scan_from"], min(marks)),
        scan_from=None,
        scan_offset=None,
        scan_newest=None,
        scan_oldest_open=None,
        last_scan_at=now,
        next_poll_at=now + services.settings.zap_watch_interval_seconds,
    )
    return values, f"scan done: {len(items)} runs on the last page"


def _later(watch: dict, outcome: oc.UpstreamOutcome, now: float) -> tuple[dict, str]:
    """Keep the scan where it is and come back when upstream or the budget allows."""
    scan = {k: watch[k] for k in ("scan_from", "scan_offset", "scan_newest", "scan_oldest_open")}
    match outcome:
        case oc.Deferred(wait=wait):
            return {**scan, "next_poll_at": now + wait}, "waiting for the shared budget"
        case oc.Unauthorized(reason=reason, retry_in=retry_in):
            # Looked at again now and then; no call is made until the token is replaced.
            wait = retry_in or RETRY_SECONDS
            return {**scan, "next_poll_at": now + wait, "last_error": reason}, "account held"
        case oc.Throttled(retry_after=after) | oc.Unavailable(retry_after=after) if after:
            retry_in = after
        case _:
            retry_in = RETRY_SECONDS
    values = {**scan, "next_poll_at": now + retry_in, "last_error": _error_text(outcome)}
    return values, outcome.kind


def _error_text(outcome: oc.UpstreamOutcome) -> str:
    match outcome:
        case oc.TransportError(detail=detail) if detail:
            return detail
    return f"upstream answered HTTP {outcome.status}"


def _row(run: dict, started: float | None, now: float) -> dict:
    searchable = [run.get("zap_title") or "", run.get("data_in"), run.get("data_out")]
    return {
        "id": str(run["id"]),
        "zap_id": run.get("zap_id"),
        "status": run["status"],
        "zap_title": run.get("zap_title"),
        "start_time": started,
        "end_time": _timestamp(run.get("end_time")),
        "body": json.dumps(run, separators=(",", ":")),
        "search_text": " ".join(json.dumps(p, ensure_ascii=False) for p in searchable).lower(),
        "first_seen_at": now,
        "updated_at": now,
    }


def _timestamp(value) -> float | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _next_offset(link: str, fallback: int) -> int:
    """Upstream's offset from links.next (never backwards); our filters are kept, not its URL's."""
    try:
        return int(parse_qs(urlparse(link).query)["offset"][0])
    except (KeyError, ValueError, IndexError):
        return fallback
