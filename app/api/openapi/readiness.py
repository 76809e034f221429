"""The /readyz answer's shape in the OpenAPI document: mode, upstream, database, callbacks."""

from __future__ import annotations

CALLBACKS_STATE = {
    "type": "object",
    "description": "CALLBACKS as resolved at start. `off`: runs carry no callback_url and the "
    "relay polls only, with no CALLBACK_GRACE_SECONDS wait before the first poll.",
    "required": ["state", "reason"],
    "properties": {
        "state": {"type": "string", "enum": ["on", "off"]},
        "reason": {
            "type": "string",
            "description": "Which setting chose it and why, e.g. "
            "`auto: PUBLIC_BASE_URL is not public https`.",
        },
    },
}
READY = {
    "description": "Ready",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": [
                    "status",
                    "mode",
                    "upstream",
                    "database",
                    "callback_signature_check",
                    "callbacks",
                ],
                "properties": {
                    "status": {"type": "string", "enum": ["ready"]},
                    "mode": {"type": "string", "enum": ["sandbox", "live"]},
                    "upstream": {"type": "string", "description": "ZAPIER_API_BASE"},
                    "database": {"type": "string", "description": "sqlite or postgresql"},
                    "callback_signature_check": {"type": "boolean"},
                    "callbacks": CALLBACKS_STATE,
                },
            }
        }
    },
}
