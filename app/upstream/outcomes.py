"""Typed outcomes of one upstream call: what came back, mapped to what the caller must do next."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class RateInfo:
    """Upstream's X-RateLimit-* headers; any of them may be missing."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # unix seconds


@dataclass(frozen=True)
class Outcome:
    """Common to every outcome: HTTP status (None when no answer), rate headers, latency."""

    kind: ClassVar[str] = "outcome"

    _: KW_ONLY
    status: int | None = None
    rate: RateInfo | None = None
    latency_ms: float = 0.0


@dataclass(frozen=True)
class Accepted(Outcome):
    """Upstream took the run; poll or wait for the callback with `upstream_id`."""

    kind: ClassVar[str] = "accepted"
    upstream_id: str


@dataclass(frozen=True)
class Result(Outcome):
    """A finished (or `waiting`) run: the validated body with unknown fields kept, and its text."""

    kind: ClassVar[str] = "result"
    body: dict
    raw: str


@dataclass(frozen=True)
class Processing(Outcome):
    """Upstream has no result yet (202); ask again later."""

    kind: ClassVar[str] = "processing"


@dataclass(frozen=True)
class NotFound(Outcome):
    kind: ClassVar[str] = "not_found"
    errors: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Refused(Outcome):
    """Any other 4xx: final for this request; `errors` is upstream's list as sent."""

    kind: ClassVar[str] = "refused"
    errors: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Throttled(Outcome):
    """429: nobody may call this bucket for `retry_after` seconds."""

    kind: ClassVar[str] = "throttled"
    retry_after: float


@dataclass(frozen=True)
class Unavailable(Outcome):
    """5xx: try again later, after `retry_after` seconds when upstream said so."""

    kind: ClassVar[str] = "unavailable"
    retry_after: float | None = None


@dataclass(frozen=True)
class TransportError(Outcome):
    """No usable answer: timeout, connection error, redirect, or a 2xx body off the contract."""

    kind: ClassVar[str] = "transport_error"
    detail: str


@dataclass(frozen=True)
class Unauthorized(Outcome):
    """The account's work waits: upstream refused its token (401, or 403 on auth; `status`
    says which), or it was refused before and no call was made (`status` None). `retry_in`
    None: until the token is replaced; otherwise seconds (a token the relay cannot read)."""

    kind: ClassVar[str] = "unauthorized"
    account: str
    reason: str  # "account <id> unauthorized: <upstream's answer>", for the run's reason
    retry_in: float | None = None
    errors: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Deferred(Outcome):
    """The shared budget refused: no call was made; try again in `wait` seconds."""

    kind: ClassVar[str] = "deferred"
    wait: float


UpstreamOutcome = (
    Accepted
    | Result
    | Processing
    | NotFound
    | Refused
    | Throttled
    | Unavailable
    | TransportError
    | Unauthorized
    | Deferred
)
