"""Which refusals are about the token itself: those hold the account's work, never fail it."""

from __future__ import annotations

import logging

from app.accounts.tokens import AccountTokens, Credentials
from app.store.engine import DatabaseError
from app.upstream import outcomes as oc

log = logging.getLogger(__name__)

# 403 error codes that mean "this credential", not "this request" (the seeds' 403 answers
# "Permission denied. Unauthorized request." with permission_denied; the Partner API's are
# Django REST framework's not_authenticated and authentication_failed).
AUTH_CODES = frozenset(
    {
        "permission_denied",
        "not_authenticated",
        "authentication_failed",
        "unauthorized",
        "invalid_token",
        "token_invalid",
        "token_expired",
        "expired_token",
    }
)
DETAIL_CHARS = 300


def token_refusal(outcome: oc.UpstreamOutcome) -> str | None:
    """Upstream's answer, in a line, when it refused the token (any 401; a 403 with an auth
    error code); None for every other outcome."""
    match outcome:
        case oc.Refused(status=401, errors=errors):
            return _detail(401, errors)
        case oc.Refused(status=403, errors=errors) if _codes(errors) & AUTH_CODES:
            return _detail(403, errors)
    return None


def hold_refused(
    tokens: AccountTokens, credentials: Credentials, outcome: oc.UpstreamOutcome
) -> oc.UpstreamOutcome:
    """A stored account's token upstream refuses: the account is marked (its work waits), and
    the outcome holds the run instead of failing it. The default account's refusals stay
    refusals: its token changes only with a restart, so nothing could resume held work."""
    detail = token_refusal(outcome) if credentials.stored else None
    if detail is None:
        return outcome
    account = credentials.account_id
    try:
        if tokens.refused(credentials, detail):
            log.warning("account %s unauthorized: %s", account, detail)
    except DatabaseError:
        log.exception("could not mark account %s unauthorized", account)
    return oc.Unauthorized(
        account,
        f"account {account} unauthorized: {detail}",
        errors=outcome.errors,
        status=outcome.status,
        rate=outcome.rate,
        latency_ms=outcome.latency_ms,
    )


def _codes(errors: list) -> set[str]:
    return {str(e.get("code")) for e in errors if isinstance(e, dict)}


def _detail(status: int, errors: list) -> str:
    words = []
    for entry in errors:
        if isinstance(entry, dict):
            text = entry.get("detail") or entry.get("title") or entry.get("code")
            if text:
                words.append(str(text))
    said = "; ".join(words) or "no detail"
    return f"upstream answered HTTP {status}: {said}"[:DETAIL_CHARS]
