"""CALLBACKS (auto, on, off): do runs carry a callback_url upstream? Resolved once, with why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.config.values import env_choice, looks_public_https

CALLBACK_SETTINGS = ("auto", "on", "off")
NOT_PUBLIC = "PUBLIC_BASE_URL is not a public https URL"


class CallbackState(StrEnum):
    """What CALLBACKS resolves to: runs carry a callback_url upstream, or the relay polls only."""

    ON = "on"
    OFF = "off"


@dataclass(frozen=True)
class CallbackMode:
    """The resolved state; `reason` says which setting chose it and on what grounds."""

    state: CallbackState
    reason: str
    warning: str | None = None


def summary(state: CallbackState, reason: str) -> str:
    """One line for people: the state, why, and what it means for a run."""
    if state is CallbackState.OFF:
        return f"{state} ({reason}): polling only"
    return f"{state} ({reason}): callback URLs sent, polled if none comes in the grace"


def callback_mode(env: Mapping[str, str], sandbox: bool, public_base_url: str) -> CallbackMode:
    """CALLBACKS resolved against the mode and PUBLIC_BASE_URL; an unknown value stops the start."""
    setting = env_choice(env, "CALLBACKS", CALLBACK_SETTINGS, "auto")
    # The simulator calls back on loopback, so only live mode needs a URL Zapier accepts.
    public = sandbox or looks_public_https(public_base_url)
    if setting == "off":
        return CallbackMode(CallbackState.OFF, "CALLBACKS=off")
    if setting == "on":
        warning = None if public else f"{NOT_PUBLIC}: Zapier refuses such callback URLs (400)"
        return CallbackMode(CallbackState.ON, "CALLBACKS=on", warning)
    if sandbox:
        return CallbackMode(CallbackState.ON, "auto: sandbox mode")
    if public:
        return CallbackMode(CallbackState.ON, "auto: PUBLIC_BASE_URL is public https")
    warning = (
        f"{NOT_PUBLIC} (Zapier refuses such callback URLs with a 400): polling only under "
        "CALLBACKS=auto; CALLBACKS=on sends them anyway"
    )
    return CallbackMode(CallbackState.OFF, "auto: PUBLIC_BASE_URL is not public https", warning)
