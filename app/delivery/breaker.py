"""The per-target circuit breaker: after N failures in a row a target rests, then one try.

A target that keeps failing would otherwise take worker slots from every other target and
spend its own deliveries' retries in minutes. While a target rests, its due deliveries wait
(shown as paused, with the reason) without spending attempts; when the rest is over, one
delivery goes first (half-open): a success closes the breaker, a failure rests it again for
twice as long, up to a cap.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BreakerPolicy:
    failures_to_open: int = 5
    base_cooldown: float = 30.0
    max_cooldown: float = 600.0

    def cooldown(self, pauses: int) -> float:
        """The rest after the `pauses`-th opening in a row: base, 2x base, ... up to the cap."""
        return min(self.max_cooldown, self.base_cooldown * 2 ** min(pauses, 20))


def after_attempt(
    health: dict, ok: bool, status: int | None, error: str | None, now: float, policy
) -> dict:
    """A target's health row after one attempt's outcome (a new dict; `health` may be empty)."""
    row = {
        "consecutive_failures": health.get("consecutive_failures") or 0,
        "pauses": health.get("pauses") or 0,
        "paused_until": health.get("paused_until"),
        "failing_since": health.get("failing_since"),
    }
    if ok:
        return {
            **row,
            "consecutive_failures": 0,
            "pauses": 0,
            "paused_until": None,
            "failing_since": None,
            "last_success_at": now,
            "last_success_status": status,
        }
    failures = row["consecutive_failures"] + 1
    row.update(
        consecutive_failures=failures,
        failing_since=row["failing_since"] or now,
        last_failure_at=now,
        last_failure_status=status,
        last_error=error,
    )
    resting = row["paused_until"] is not None and row["paused_until"] > now
    if failures >= policy.failures_to_open and not resting:
        row["paused_until"] = now + policy.cooldown(row["pauses"])
        row["pauses"] = row["pauses"] + 1
    return row


def is_half_open(health: dict | None, now: float, policy) -> bool:
    """The rest is over but the last tries failed: only one delivery may go."""
    if not health:
        return False
    failing = (health.get("consecutive_failures") or 0) >= policy.failures_to_open
    paused_until = health.get("paused_until")
    return failing and (paused_until is None or paused_until <= now)


def pause_reason(health: dict | None, now: float) -> str | None:
    """Why a target's deliveries wait now (None: they don't)."""
    if not health or not health.get("paused_until") or health["paused_until"] <= now:
        return None
    return (
        f"target paused by the circuit breaker after {health['consecutive_failures']} failures "
        f"in a row; next try after {health['paused_until'] - now:.0f}s"
    )
