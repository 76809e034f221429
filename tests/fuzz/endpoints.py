"""Every endpoint that takes a body, with a valid body builder and the status it succeeds with."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.integration.helpers import RUN_URL, callback_url, run_row, trigger

PAD = "@@PAD@@"  # inside a string: replaced by padding, or by raw bytes
DEEP = "@@DEEP@@"  # a whole value: replaced by a nested structure
URL = "http://127.0.0.1:9/"


def _as_key(text: str) -> dict:
    return {text: text}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: str
    template: dict  # a valid body with PAD in one string and DEEP as one value
    ok: int
    client_api: bool = True
    deep_default: str = "null"
    # Every string the body can carry, as "data/action" -> how a text becomes that field's value.
    strings: dict[str, Callable[[str], object]] = field(default_factory=dict)

    def body(self, pad: str = "") -> bytes:
        return self.raw(json.dumps(pad)[1:-1].encode())

    def raw(self, pad: bytes = b"", deep: bytes | None = None) -> bytes:
        """The body with raw bytes spliced in: for invalid UTF-8 and nesting past json.dumps."""
        text = json.dumps(self.template).encode().replace(PAD.encode(), pad)
        return text.replace(f'"{DEEP}"'.encode(), deep or self.deep_default.encode())

    def with_text(self, slot: str, text: str) -> bytes:
        body = json.loads(self.body())
        *parents, last = slot.split("/")
        target = body
        for key in parents:
            target = target[key]
        target[last] = self.strings[slot](text)
        return json.dumps(body).encode()  # ASCII escapes: lone surrogates survive the trip

    def send(self, client, data: bytes, content_type: str | None = "application/json"):
        headers = {"Content-Type": content_type} if content_type else {}
        return client.open(self.url, method=self.method, data=data, headers=headers)


def body_endpoints(client, services, sandbox) -> list[Endpoint]:
    """Build the live targets: an open run for its callback and a webhook to PATCH."""
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    assert run_row(services, run_id)["upstream_run_id"]
    hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    hook_url = f"/v1/webhooks/{hook.get_json()['data']['id']}"
    hook_body = {"url": f"http://127.0.0.1:9/{PAD}", "stored_action_ids": DEEP}
    same = str
    hook_strings = {
        "url": lambda t: URL + t,
        "secret": lambda t: "whsec_" + t,
        "stored_action_ids": lambda t: [t],
        "statuses": lambda t: [t],
    }
    return [
        Endpoint(
            "trigger",
            "POST",
            RUN_URL,
            {"data": {"inputs": {"p": PAD, "d": DEEP}, "metadata": {}}},
            202,
            strings={
                "data/inputs": _as_key,
                "data/metadata": _as_key,
                "data/callback_url": lambda t: URL + t,
                "data/page": same,
            },
        ),
        Endpoint(
            "action_run",
            "POST",
            "/v2/action-runs",
            {
                "data": {
                    "action": "a",
                    "authentication": None,
                    "inputs": {"p": PAD, "d": DEEP},
                    "metadata": {},
                }
            },
            200,
            strings={
                "data/action": same,
                "data/authentication": same,
                "data/inputs": _as_key,
                "data/metadata": _as_key,
                "data/callback_url": lambda t: URL + t,
            },
        ),
        Endpoint(
            "webhook_create", "POST", "/v1/webhooks", hook_body, 201, True, "[]", hook_strings
        ),
        Endpoint("webhook_update", "PATCH", hook_url, hook_body, 200, True, "[]", hook_strings),
        Endpoint(
            "callback",
            "POST",
            callback_url(run_id),
            {"errors": [], "status": "waiting", "results": [{"p": PAD, "d": DEEP}]},
            200,
            client_api=False,
            strings={
                "results": lambda t: [_as_key(t)],
                "errors": lambda t: [{"title": t, "detail": t}],
                "status": same,
                "type": same,
                "next_page": same,
                "id": same,
            },
        ),
    ]
