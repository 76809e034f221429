"""An account's limit per bucket: its override, else its JWT's rate_limit claims, else defaults.

Upstream sets a token's budget from the JWT it authenticates with (the seeds: `rate_limit`
`{"exempt": true}` lifts it; `limit_override` sets it, up to 1000 run POSTs or 3000 GETs per
300 s). The relay decodes its own credential without verifying it: it only reads the numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import jwt

BUCKETS = ("get", "run")
# The most a limit_override may set, per bucket (the seeds' "Maximum via limit_override").
OVERRIDE_CAPS = {"get": 3000, "run": 1000}


@dataclass(frozen=True)
class BucketLimit:
    """Calls per window for one bucket; `calls` None: exempt (no limit but upstream's word).
    `source` says where it came from: "override", "claims" or "default"."""

    calls: int | None
    source: str = "default"


@dataclass(frozen=True)
class RateClaims:
    exempt: bool = False
    limit_override: int | None = None


def rate_claims(token: str) -> RateClaims | None:
    """The token's `rate_limit` claim, or None when it is not a JWT or carries none."""
    if token.count(".") != 2:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    raw = claims.get("rate_limit")
    if isinstance(raw, str):
        # Upstream's other claims (billing) are JSON strings; take this one either way.
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, dict):
        return None
    override = raw.get("limit_override")
    if isinstance(override, bool) or not isinstance(override, int) or override < 1:
        override = None
    return RateClaims(exempt=raw.get("exempt") is True, limit_override=override)


def parse_overrides(text: str | None) -> dict[str, int]:
    """`budget_overrides_json` as {"get": n, "run": n}; anything else in it is ignored."""
    try:
        raw = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {
        bucket: value
        for bucket, value in raw.items()
        if bucket in BUCKETS and isinstance(value, int) and not isinstance(value, bool)
        if value >= 0
    }


@lru_cache(maxsize=1024)
def resolve_limits(
    token: str, overrides_json: str | None, defaults: tuple[tuple[str, int], ...]
) -> dict[str, BucketLimit]:
    """Per bucket, the first source that applies: override, claims, defaults (cached: the
    arguments change only when the account is edited)."""
    overrides = parse_overrides(overrides_json)
    claims = rate_claims(token)
    limits = {}
    for bucket, default in defaults:
        if bucket in overrides:
            limits[bucket] = BucketLimit(overrides[bucket], "override")
        elif claims is not None and claims.exempt:
            limits[bucket] = BucketLimit(None, "claims")
        elif claims is not None and claims.limit_override is not None:
            cap = OVERRIDE_CAPS.get(bucket, claims.limit_override)
            limits[bucket] = BucketLimit(min(claims.limit_override, cap), "claims")
        else:
            limits[bucket] = BucketLimit(default, "default")
    return limits
