"""A button's POST: one service call, a message for the next page, and a redirect (303) to it,
so that reloading the page never repeats the action."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request

from app.console.guards import safe_next
from app.errors import RelayError


def act(call: Callable[[], object], done: str | Callable[[object], str], back: str):
    """Run `call`; a refusal (a conflict, say) is shown as the message instead of a page.
    `done` is the message, or makes it from what `call` returned."""
    try:
        outcome = call()
    except RelayError as err:
        flash(str(err), "error")
    else:
        flash(done(outcome) if callable(done) else done, "ok")
    return redirect(safe_next(request.form.get("next") or back), code=303)
