"""Which refusals are about the token itself: those hold the account's work, never fail it."""

from __future__ import annotations

from app.upstream import outcomes as oc

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
