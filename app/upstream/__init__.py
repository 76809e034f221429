"""The upstream Actions API: client, typed outcomes, Retry-After and rate headers, shared budget."""

from app.upstream.budget import Admission, RateBudget
from app.upstream.client import UpstreamClient
from app.upstream.gateway import UpstreamGateway
from app.upstream.outcomes import (
    Accepted,
    Deferred,
    NotFound,
    Processing,
    RateInfo,
    Refused,
    Result,
    Throttled,
    TransportError,
    Unavailable,
    UpstreamOutcome,
)

__all__ = [
    "Accepted",
    "Admission",
    "Deferred",
    "NotFound",
    "Processing",
    "RateBudget",
    "RateInfo",
    "Refused",
    "Result",
    "Throttled",
    "TransportError",
    "Unavailable",
    "UpstreamClient",
    "UpstreamGateway",
    "UpstreamOutcome",
]
