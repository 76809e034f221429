"""Domain exceptions by meaning, and the one error shape the edges render them in."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus


@dataclass(frozen=True)
class Problem:
    """One entry of an error answer; the edge that renders it supplies the status."""

    code: str
    detail: str
    pointer: str | None = None  # where in the body (a JSON pointer)
    parameter: str | None = None  # or which query or path parameter
    title: str | None = None
    meta: dict | None = None

    def entry(self, status: int) -> dict:
        return error_entry(
            status,
            self.code,
            self.detail,
            pointer=self.pointer,
            parameter=self.parameter,
            title=self.title,
            meta=self.meta,
        )


class RelayError(Exception):
    """A request the relay will not or cannot serve. The class says why; api/errors.py says
    which HTTP status that is. `headers` are extra answer headers (WWW-Authenticate...)."""

    def __init__(
        self,
        code: str = "error",
        detail: str = "",
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        title: str | None = None,
        meta: dict | None = None,
        headers: dict[str, str] | None = None,
        problems: list[Problem] | None = None,
    ):
        self.problems = problems or [Problem(code, detail, pointer, parameter, title, meta)]
        super().__init__(self.problems[0].detail)
        self.code = self.problems[0].code
        self.headers = dict(headers or {})

    def entries(self, status: int) -> list[dict]:
        return [problem.entry(status) for problem in self.problems]


class InvalidInput(RelayError):
    """A well-formed request whose values are wrong (a field, a parameter, a cursor)."""

    @classmethod
    def from_messages(cls, messages, pointer_prefix: str = "") -> InvalidInput:
        """One problem per field marshmallow complained about."""
        return cls(problems=validation_problems(messages, pointer_prefix))


class MalformedBody(RelayError):
    """The body is not the JSON object the endpoint reads."""


class Unauthenticated(RelayError):
    """No credentials, or credentials the relay does not recognise."""


class Forbidden(RelayError):
    """Credentials that are recognised but do not allow this."""


class NotFound(RelayError):
    """No such run, webhook, watch or path."""


class Conflict(RelayError):
    """The request contradicts what is stored (an idempotency key, a run's state)."""


class TooManyRequests(RelayError):
    """The caller must slow down (say, too many wrong API keys); headers carry Retry-After."""


class UnsupportedMediaType(RelayError):
    """The body is sent as something other than JSON."""


class Unavailable(RelayError):
    """The relay cannot serve this now (database, signing keys); the caller should retry."""


class UpstreamRefusal(RelayError):
    """Upstream refused the run: every repeat answers with upstream's own status and errors."""

    def __init__(self, status: int, errors: list):
        super().__init__("upstream_refusal", f"Upstream refused the run ({status}).")
        self.status = status
        self.errors = errors

    def entries(self, status: int) -> list[dict]:
        return self.errors  # passed through as upstream wrote them


def error_entry(
    status: int, code: str, detail: str, *, pointer=None, parameter=None, title=None, meta=None
) -> dict:
    """One entry of {"errors": [...]}, the upstream's error shape."""
    if parameter is not None:
        source = {"parameter": parameter}
    else:
        source = {"pointer": pointer} if pointer is not None else None
    return {
        "status": status,
        "code": code,
        "title": title or HTTPStatus(status).phrase,
        "detail": detail,
        "source": source,
        "meta": meta or {},
    }


def flatten_messages(messages, prefix: str = "") -> list[tuple[str, str]]:
    """Turn marshmallow's nested messages into (JSON pointer, message) pairs."""
    if isinstance(messages, dict):
        pairs = []
        for key, value in messages.items():
            pointer = prefix if key == "_schema" else f"{prefix}/{_escape(key)}"
            pairs.extend(flatten_messages(value, pointer))
        return pairs
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix or "/", " ".join(messages))]
    if isinstance(messages, list):
        pairs = []
        for item in messages:
            pairs.extend(flatten_messages(item, prefix))
        return pairs
    return [(prefix or "/", str(messages))]


def _escape(key) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def validation_problems(messages, pointer_prefix: str = "") -> list[Problem]:
    """marshmallow's messages as problems, each pointing at its field."""
    return [
        Problem("invalid", message, pointer=pointer, title="Invalid field")
        for pointer, message in flatten_messages(messages, pointer_prefix)
    ]


def framework_refusal(
    status: int, description: str | None, allowed_methods=None
) -> tuple[list[dict], dict[str, str]]:
    """Entries and headers for the web framework's own refusals (no such path, wrong method,
    too large): any edge renders them alike."""
    known = HTTPStatus(status)
    code = known.phrase.lower().replace(" ", "_")
    headers = {"Allow": ", ".join(allowed_methods)} if status == 405 and allowed_methods else {}
    return [error_entry(status, code, description or known.description)], headers


# What any edge answers for a crash: never the exception's own text.
INTERNAL_ERROR = Problem("internal_error", "The relay failed to handle this request.")
