"""Fault knobs: names, defaults, SANDBOX_* variables and validation of runtime changes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class KnobError(ValueError):
    """A knob name is unknown or its value is out of range; the message names the knob."""

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Knob:
    kind: str  # probability | seconds | count | number | flag
    default: Any
    minimum: float = 0.0
    doc: str = ""


KNOBS: dict[str, Knob] = {
    "run_seconds": Knob("seconds", 0.5, doc="how long a run processes"),
    "run_seconds_max": Knob("seconds", 0.0, doc="if above run_seconds: uniform duration"),
    "error_rate": Knob("probability", 0.0, doc="a run ends with status error"),
    "callback_drop": Knob("probability", 0.0, doc="a run's callbacks are never sent"),
    "callback_duplicate": Knob("probability", 0.0, doc="the final callback is sent twice"),
    "callback_delay_seconds": Knob("seconds", 0.0, doc="extra delay before the final callback"),
    "callback_waiting_first": Knob("probability", 0.0, doc="a waiting callback precedes the final"),
    "callback_out_of_order": Knob("probability", 0.0, doc="a waiting callback follows the final"),
    "poll_foreign_id": Knob("probability", 0.0, doc="a v1 GET run answer names another run"),
    "rate_429_burst": Knob("probability", 0.0, doc="an admitted request gets 429 Retry-After 1"),
    "rate_503_burst": Knob("probability", 0.0, doc="an admitted request gets 503 Retry-After 1"),
    "get_limit": Knob("count", 600, doc="GETs admitted per window"),
    "run_limit": Knob("count", 200, doc="run POSTs admitted per window"),
    "window_seconds": Knob("seconds", 300.0, minimum=0.001, doc="rate window length"),
    "retention_seconds": Knob("seconds", 7 * 86400.0, minimum=0.001, doc="results kept"),
    "v2_callbacks": Knob("flag", False, doc="POST /v2/action-runs accepts data.callback_url"),
    "zap_runs_per_minute": Knob("number", 0.0, doc="zap runs started per minute (0: none)"),
    "zap_run_seconds": Knob("seconds", 1.0, doc="how long such a zap run stays pending"),
    "zap_run_error_rate": Knob("probability", 0.0, doc="such a zap run ends with status error"),
}

ENV_PREFIX = "SANDBOX_"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def defaults() -> dict[str, Any]:
    return {name: knob.default for name, knob in KNOBS.items()}


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Defaults overridden by SANDBOX_<KNOB> variables; a bad value raises naming the variable."""
    values = defaults()
    for name, knob in KNOBS.items():
        raw = env.get(env_name(name), "").strip()
        if not raw:
            continue
        try:
            values[name] = _validate(name, knob, _parse_text(knob, raw))
        except (KnobError, ValueError):
            raise KnobError(f"{env_name(name)}: expected {_expected(knob)}, got {raw!r}") from None
    return values


def merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with validated `changes`; raises KnobError for an unknown knob or a bad value."""
    if not isinstance(changes, Mapping):
        raise KnobError("expected a JSON object of knob names to values")
    merged = dict(base)
    for name, value in changes.items():
        knob = KNOBS.get(name)
        if knob is None:
            raise KnobError(f"{name}: unknown knob; known: {', '.join(sorted(KNOBS))}", name)
        merged[name] = _validate(name, knob, value)
    return merged


def _parse_text(knob: Knob, raw: str) -> Any:
    if knob.kind == "flag":
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise KnobError(raw)
    if knob.kind == "count":
        return int(raw)
    return float(raw)


def _validate(name: str, knob: Knob, value: Any) -> Any:
    if not _acceptable(knob, value):
        raise KnobError(f"{name}: expected {_expected(knob)}, got {value!r}", name)
    if knob.kind == "flag":
        return value
    return int(value) if knob.kind == "count" else float(value)


def _acceptable(knob: Knob, value: Any) -> bool:
    if knob.kind == "flag":
        return isinstance(value, bool)
    # JSON true/false are not numbers here, although Python counts bool as int.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    if knob.kind == "count":
        return value == int(value) and value >= 0
    return value >= knob.minimum and (knob.kind != "probability" or value <= 1)


def _expected(knob: Knob) -> str:
    return {
        "probability": "a number between 0 and 1",
        "seconds": f"a number of seconds >= {knob.minimum:g}",
        "count": "a whole number >= 0",
        "number": f"a number >= {knob.minimum:g}",
        "flag": "true or false",
    }[knob.kind]
