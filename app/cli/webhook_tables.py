"""The operator CLI's view of webhooks: each target's state and health, as a table or a record."""

from __future__ import annotations

from app.cli.tables import NONE, cut, fields, status_at, table, when


def webhook_state(w: dict) -> str:
    health = w.get("health") or {}
    state = health.get("state") or ("enabled" if w.get("enabled") else "disabled")
    reason = health.get("disabled_reason") or w.get("disabled_reason")
    if state == "paused" and health.get("paused_until"):
        return f"paused until {when(health['paused_until'])}"
    return f"{state} ({cut(reason, 30)})" if state == "disabled" and reason else state


def webhooks_table(webhooks: list[dict]) -> str:
    if not webhooks:
        return "no webhooks"
    headers = ["ID", "URL", "STATE", "FAILURES", "LAST SUCCESS", "LAST FAILURE", "ORIGIN"]
    rows = []
    for w in webhooks:
        h = w.get("health") or {}
        rows.append(
            [
                w["id"],
                cut(w.get("url"), 40),
                webhook_state(w),
                h.get("consecutive_failures", 0),
                status_at(h.get("last_success_at"), h.get("last_success_status")),
                status_at(h.get("last_failure_at"), h.get("last_failure_status")),
                w.get("origin") or NONE,
            ]
        )
    return table(headers, rows)


def webhook_detail(w: dict) -> str:
    h = w.get("health") or {}
    rate = h.get("success_rate_24h")
    return fields(
        [
            ("id", w["id"]),
            ("url", w.get("url")),
            ("origin", w.get("origin")),
            ("state", webhook_state(w)),
            ("consecutive failures", h.get("consecutive_failures", 0)),
            ("failing since", when(h.get("failing_since"))),
            ("last success", status_at(h.get("last_success_at"), h.get("last_success_status"))),
            ("last failure", status_at(h.get("last_failure_at"), h.get("last_failure_status"))),
            ("last error", h.get("last_error")),
            ("attempts 24 h", h.get("attempts_24h", 0)),
            ("success rate 24 h", NONE if rate is None else f"{rate:.1%}"),
            ("stored actions", ", ".join(w.get("stored_action_ids") or []) or "all"),
            ("statuses", ", ".join(w.get("statuses") or []) or "all"),
        ]
    )
