"""Query strings and form fields of the console read into filters, each bad value named."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from app.runs.states import RunState
from app.schemas.cursors import CURSOR_PATTERN
from app.schemas.operator import DELIVERY_STATES

MAX_TEXT = 64
RUN_STATES = tuple(state.value for state in RunState)
# What <input type="datetime-local"> sends (seconds optional), or ISO 8601 with an offset.
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class FilterProblems(list):
    """Messages for the values that were left out, shown above the results."""


def parse_time(text: str) -> float:
    """Unix seconds; a time without an offset is UTC, as every time the console shows is."""
    text = text.strip()
    for layout in TIME_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _text(args: Mapping[str, str], name: str, problems: FilterProblems) -> str | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT or "\x00" in value:
        problems.append(f"{name}: at most {MAX_TEXT} characters.")
        return None
    return value


def _choice(args, name: str, choices: tuple[str, ...], problems: FilterProblems) -> str | None:
    value = _text(args, name, problems)
    if value is not None and value not in choices:
        problems.append(f"{name}: one of {', '.join(choices)}.")
        return None
    return value


def _time(args, name: str, problems: FilterProblems) -> float | None:
    value = _text(args, name, problems)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        problems.append(f"{name}: a date and time such as 2026-01-31T09:30 (UTC).")
        return None


def run_filters(args: Mapping[str, str]) -> tuple[dict, FilterProblems]:
    problems = FilterProblems()
    filters = {
        "id": _text(args, "id", problems),
        "state": _choice(args, "state", RUN_STATES, problems),
        "account_id": _text(args, "account", problems),
        "stored_action_id": _text(args, "stored_action", problems),
        "since": _time(args, "since", problems),
        "until": _time(args, "until", problems),
    }
    return {k: v for k, v in filters.items() if v is not None}, problems


def delivery_query(args: Mapping[str, str]) -> tuple[dict, FilterProblems]:
    """A query for app/delivery/listing.py deliveries_page (times as aware datetimes)."""
    problems = FilterProblems()
    query: dict = {
        "state": _choice(args, "state", DELIVERY_STATES, problems),
        "webhook_id": _text(args, "webhook_id", problems),
        "run_id": _text(args, "run_id", problems),
    }
    for name in ("since", "until"):
        at = _time(args, name, problems)
        query[name] = datetime.fromtimestamp(at, tz=UTC) if at is not None else None
    cursor = _text(args, "cursor", problems)
    if cursor is not None and re.match(CURSOR_PATTERN, cursor):
        query["cursor"] = cursor
    return {k: v for k, v in query.items() if v is not None}, problems


def recovery_window(form: Mapping[str, str]) -> tuple[float | None, float | None, FilterProblems]:
    """(since, until) of a recovery; `since` is required and `until` must come after it."""
    problems = FilterProblems()
    since = _time(form, "since", problems)
    until = _time(form, "until", problems)
    if since is None and not problems:
        problems.append("since: required.")
    if since is not None and until is not None and until <= since:
        problems.append("until: must be after since.")
    return since, until, problems
