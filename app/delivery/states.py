"""Delivery states: pending until a 2xx (delivered), a 410 (gone) or the last retry (failed);
held while its target is disabled (never dropped: released when it is enabled again)."""

from __future__ import annotations

from enum import StrEnum


class DeliveryState(StrEnum):
    PENDING = "pending"  # an attempt is due at next_attempt_at
    DELIVERED = "delivered"  # a 2xx answer ended it
    FAILED = "failed"  # out of retries, or its target is gone; can be redelivered
    GONE = "gone"  # the target answered 410 Gone and was disabled
    HELD = "held"  # came due while its target was disabled; waits for it to be enabled

    @property
    def is_final(self) -> bool:
        return self in FINAL_DELIVERY_STATES


FINAL_DELIVERY_STATES = frozenset(
    {DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.GONE}
)
