"""schemathesis hooks for the live run (SCHEMATHESIS_HOOKS): each case from its own address.

The relay answers 429 instead of 401 once one address has sent 20 wrong keys in a minute.
schemathesis' `ignored_auth` check sends one wrong key per operation and wants 401 or 403,
so one address would cross that line halfway through the run. With TRUSTED_PROXIES=1 the
relay takes the client address from X-Forwarded-For: a fresh one per case keeps every probe a
first offence. The throttle itself is tested in tests/security/test_api_keys.py.
"""

from __future__ import annotations

import itertools
from collections.abc import MutableMapping

import schemathesis
from schemathesis.core.parameters import ParameterLocation

_numbers = itertools.count(1)


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    meta = case.meta
    negative = meta is not None and meta.generation.mode.is_negative
    location = getattr(meta.phase.data, "parameter_location", None) if meta else None
    if negative and location is ParameterLocation.HEADER:
        # Any edit to the headers makes schemathesis check the case again, and a case that
        # leaves out Authorization would then be sent with it. Such cases send no wrong key.
        return
    if case.headers is None:
        case.headers = {}
    if isinstance(case.headers, MutableMapping):  # a negative case may make them anything
        n = next(_numbers)
        case.headers["X-Forwarded-For"] = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
