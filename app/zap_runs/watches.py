"""Watches as the API shows and changes them, and the stored Zap runs as a page."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

from app.api.errors import ApiError
from app.delivery.run_events import iso
from app.store import webhooks_repo, zap_repo


def watch_view(row: dict) -> dict:
    return {
        "id": row["id"],
        "zap_id": row["zap_id"],
        "statuses": json.loads(row["statuses_json"] or "[]"),
        "search": row["search"],
        "webhook_ids": json.loads(row["webhook_ids_json"] or "[]"),
        "enabled": row["enabled"],
        "from_date": iso(row["from_date"]),
        "scanning": row["scan_offset"] is not None,
        "scan_offset": row["scan_offset"],
        "next_poll_at": iso(row["next_poll_at"]) if row["enabled"] else None,
        "last_scan_at": iso(row["last_scan_at"]),
        "last_error": row["last_error"],
        "runs_seen": row["runs_seen"],
        "created_at": iso(row["created_at"]),
    }


def create_watch(conn, values: dict) -> dict:
    now = time.time()
    _check_webhooks(conn, values.get("webhook_ids") or [])
    from_date = values.get("from_date")
    row = {
        "id": str(uuid.uuid4()),
        "zap_id": values.get("zap_id"),
        "statuses_json": json.dumps(values.get("statuses") or []),
        "search": values.get("search"),
        "webhook_ids_json": json.dumps(values.get("webhook_ids") or []),
        "enabled": values.get("enabled", True),
        "from_date": from_date.timestamp() if from_date else now,
        "next_poll_at": now,
        "runs_seen": 0,
        "created_at": now,
        "updated_at": now,
    }
    zap_repo.insert_watch(conn, row)
    return zap_repo.get_watch(conn, row["id"])


def update_watch(conn, watch_id: str, values: dict) -> dict:
    found(zap_repo.get_watch(conn, watch_id))
    changes: dict = {"updated_at": time.time()}
    for key in ("zap_id", "search", "enabled"):
        if key in values:
            changes[key] = values[key]
    if "statuses" in values:
        changes["statuses_json"] = json.dumps(values["statuses"])
    if "webhook_ids" in values:
        _check_webhooks(conn, values["webhook_ids"])
        changes["webhook_ids_json"] = json.dumps(values["webhook_ids"])
    if values.get("enabled"):
        changes["next_poll_at"] = time.time()
    if {"zap_id", "search", "statuses"} & values.keys():
        # New filters make the offsets of a scan in progress meaningless: start it over.
        changes.update(scan_offset=None, scan_from=None, scan_newest=None, scan_oldest_open=None)
    zap_repo.update_watch(conn, watch_id, changes)
    return zap_repo.get_watch(conn, watch_id)


def found(row: dict | None) -> dict:
    if row is None:
        raise ApiError(404, "not_found", "No such watch.")
    return row


def _check_webhooks(conn, webhook_ids: list[str]) -> None:
    for index, webhook_id in enumerate(webhook_ids):
        if webhooks_repo.get_webhook(conn, webhook_id) is None:
            raise ApiError(
                400, "invalid", f"No webhook {webhook_id!r}.", pointer=f"/webhook_ids/{index}"
            )


def zap_runs_page(conn, query: dict, base_url: str) -> dict:
    """The seed's paging shape over the stored Zap runs, newest first, with the seed's filters."""
    filters = {
        "zap_id": query.get("zap_id"),
        "statuses": query.get("statuses"),
        "search": query.get("search"),
        "from_date": query["from_date"].timestamp() if query.get("from_date") else None,
        "to_date": query["to_date"].timestamp() if query.get("to_date") else None,
    }
    limit, offset = query["limit"], query["offset"]
    total, rows = zap_repo.zap_runs_page(conn, filters, limit, offset)

    def link(at: int) -> str:
        params = {k: v for k, v in _query_text(query).items() if k not in ("offset", "limit")}
        return f"{base_url}/v1/zap-runs?{urlencode({**params, 'offset': at, 'limit': limit})}"

    return {
        "links": {
            "next": link(offset + limit) if offset + limit < total else None,
            "prev": link(max(0, offset - limit)) if offset > 0 else None,
        },
        "meta": {"count": total, "limit": limit, "offset": offset},
        "data": [json.loads(row["body"]) for row in rows],
    }


def _query_text(query: dict) -> dict:
    text = {}
    for key, value in query.items():
        if key in ("from_date", "to_date"):
            text[key] = iso(value.timestamp())
        elif key == "statuses":
            text[key] = ",".join(value)
        else:
            text[key] = value
    return text
