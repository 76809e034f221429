"""One run as its console page shows it: the detail, its result as text, never its token."""

from __future__ import annotations

from app.console.formatting import pretty_json
from app.runs.listing import get_run
from app.runs.tokens import callback_token

REDACTED = "[redacted]"


def run_page(services, run_id: str) -> dict:
    """get_run's detail, with the result JSON as indented text. The run's callback token is
    scrubbed from that text: upstream may echo the callback URL it was given in its body."""
    run = get_run(services, run_id)
    token = callback_token(services.settings.relay_secret, run["id"])
    result = run["result"]
    text = pretty_json(result).replace(token, REDACTED) if result is not None else None
    return {**run, "result_text": text, "request_json": None}
