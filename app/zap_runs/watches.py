"""Watches as the client manages them, and the stored Zap runs as the seed's pages."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

from app.accounts.selection import choose_account
from app.errors import NotFound
from app.schemas.timestamps import iso
from app.store import webhooks_repo, zap_repo
from app.store.engine import read, write


def list_watches(services) -> list[dict]:
    with read(services.engine) as conn:
        return zap_repo.list_watches(conn)


def get_watch(services, watch_id: str) -> dict:
    with read(services.engine) as conn:
        return _found(zap_repo.get_watch(conn, watch_id))


def delete_watch(services, watch_id: str) -> None:
    with write(services.engine) as conn:
        if not zap_repo.delete_watch(conn, watch_id):
            raise NotFound("not_found", "No such watch.")


def create_watch(services, values: dict) -> dict:
    now = time.time()
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
    with write(services.engine) as conn:
        account = choose_account(conn, services.settings, values.get("account"), "/account")
        row["account_id"] = account
        _check_webhooks(conn, values.get("webhook_ids") or [])
        zap_repo.insert_watch(conn, row)
        return zap_repo.get_watch(conn, row["id"])


def update_watch(services, watch_id: str, values: dict) -> dict:
    with write(services.engine) as conn:
        _found(zap_repo.get_watch(conn, watch_id))
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
            changes.update(
                scan_offset=None, scan_from=None, scan_newest=None, scan_oldest_open=None
            )
        zap_repo.update_watch(conn, watch_id, changes)
        return zap_repo.get_watch(conn, watch_id)


def _found(row: dict | None) -> dict:
    if row is None:
        raise NotFound("not_found", "No such watch.")
    return row


def _check_webhooks(conn, webhook_ids: list[str]) -> None:
    """Each id is a UUID (the schema says so); one that names no webhook is a 404, as JSON:API
    answers a reference to a missing resource."""
    for index, webhook_id in enumerate(webhook_ids):
        if webhooks_repo.get_webhook(conn, webhook_id) is None:
            raise NotFound(
                "not_found", f"No webhook {webhook_id!r}.", pointer=f"/webhook_ids/{index}"
            )


def zap_runs_page(services, query: dict) -> dict:
    """The seed's paging shape over the stored Zap runs, newest first, with the seed's filters."""
    base_url = services.settings.public_base_url
    filters = {
        "zap_id": query.get("zap_id"),
        "statuses": query.get("statuses"),
        "search": query.get("search"),
        "from_date": query["from_date"].timestamp() if query.get("from_date") else None,
        "to_date": query["to_date"].timestamp() if query.get("to_date") else None,
    }
    limit, offset = query["limit"], query["offset"]
    with read(services.engine) as conn:
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
