"""Delivery states: pending until a 2xx (delivered), a 410 (gone) or the last retry (failed)."""

from __future__ import annotations

from enum import StrEnum


class DeliveryState(StrEnum):
    PENDING = "pending"  # an attempt is due at next_attempt_at
    DELIVERED = "delivered"  # a 2xx answer ended it
    FAILED = "failed"  # out of retries, or its target is gone; can be redelivered
    GONE = "gone"  # the target answered 410 Gone and was disabled

    @property
    def is_final(self) -> bool:
        return self is not DeliveryState.PENDING
