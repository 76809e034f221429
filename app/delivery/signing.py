"""Standard Webhooks headers for a forward, signed over the exact bytes sent.

Several secrets give several signatures, space-separated, as the spec allows for rotation: a
receiver that knows either secret verifies the forward.
"""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(secrets: list[str], event_id: str, body: str, now: float) -> dict[str, str]:
    sent_at = datetime.fromtimestamp(int(now), tz=UTC)
    signatures = [Webhook(s).sign(msg_id=event_id, timestamp=sent_at, data=body) for s in secrets]
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": " ".join(signatures),
    }
