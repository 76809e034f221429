"""Standard Webhooks headers for a forward, signed over the exact bytes sent."""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(secret: str, event_id: str, body: str, now: float) -> dict[str, str]:
    sent_at = datetime.fromtimestamp(int(now), tz=UTC)
    signature = Webhook(secret).sign(msg_id=event_id, timestamp=sent_at, data=body)
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": signature,
    }
