"""The relay's OpenAPI 3.1 document, generated from the marshmallow schemas with apispec."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.schemas import action_runs, relay, stored_actions

RELAY_COMPONENTS = {
    "RelayStoredActionsRunRequestInput": relay.RelayStoredActionsRunRequestInput,
    "RelayStoredActionsRunRequest": relay.RelayStoredActionsRunRequest,
    "RelayRunActionRequestData": relay.RelayRunActionRequestData,
    "RelayRunActionRequest": relay.RelayRunActionRequest,
    "TimelineEntry": relay.TimelineEntry,
    "DeliveryAttempt": relay.DeliveryAttempt,
    "Delivery": relay.Delivery,
    "Run": relay.Run,
    "RunPage": relay.RunPage,
    "RunEnvelope": relay.RunEnvelope,
    "WebhookCreate": relay.WebhookCreate,
    "WebhookUpdate": relay.WebhookUpdate,
    "Webhook": relay.Webhook,
    "WebhookList": relay.WebhookList,
    "WebhookEnvelope": relay.WebhookEnvelope,
    "CallbackAck": relay.CallbackAck,
}
ERR = "ActionsErrorResponse"
UUID_PARAM = {"type": "string", "format": "uuid"}
# Statuses an upstream refusal may pass through to the client, and the body-related ones.
REFUSALS = (400, 401, 402, 403, 404, 409, 422)
BODY_ERRORS = (413, 415)


def _json(ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _responses(ok: dict, *errors: int) -> dict:
    answers = dict(ok)
    for status in errors:
        answers[str(status)] = {"description": "Error", **_json(ERR)}
    return answers


def _path_params(*names: str, fmt: dict | None = None) -> list[dict]:
    schema = fmt or {"type": "string"}
    return [{"in": "path", "name": n, "required": True, "schema": schema} for n in names]


def _paths() -> dict:
    client = [400, 401, 404, 405, 413]
    return {
        "/actions/v1/stored-actions/{stored_action_id}/run": {
            "post": {
                "operationId": "createStoredActionRun",
                "parameters": _path_params("stored_action_id", fmt=UUID_PARAM),
                "requestBody": {"required": True, **_json("RelayStoredActionsRunRequest")},
                "responses": _responses(
                    {"202": {"description": "Accepted", **_json("StoredActionsRunResponse")}},
                    *REFUSALS,
                    *BODY_ERRORS,
                ),
            }
        },
        "/actions/v1/stored-actions/{stored_action_id}/runs/{run_id}": {
            "get": {
                "operationId": "getStoredActionRun",
                "parameters": _path_params("stored_action_id", "run_id"),
                "responses": _responses(
                    {
                        "200": {"description": "Result", **_json("StoredActionResult")},
                        "202": {"description": "Still processing"},
                    },
                    *REFUSALS,
                ),
            }
        },
        "/v2/action-runs": {
            "post": {
                "operationId": "createActionRun",
                "requestBody": {"required": True, **_json("RelayRunActionRequest")},
                "responses": _responses(
                    {"200": {"description": "Accepted", **_json("RunActionResponse")}},
                    *REFUSALS,
                    *BODY_ERRORS,
                ),
            }
        },
        "/v2/action-runs/{run_id}": {
            "get": {
                "operationId": "retrieveActionRun",
                "parameters": _path_params("run_id"),
                "responses": _responses(
                    {"200": {"description": "The run", **_json("ActionRunResponse")}},
                    *REFUSALS,
                ),
            }
        },
        "/v1/runs": {
            "get": {
                "operationId": "listRuns",
                "parameters": [
                    {"in": "query", "name": n, "schema": {"type": "string"}}
                    for n in ("status", "stored_action_id", "created_after", "cursor")
                ]
                + [{"in": "query", "name": "limit", "schema": {"type": "integer"}}],
                "responses": _responses(
                    {"200": {"description": "Runs", **_json("RunPage")}}, 400, 401
                ),
            }
        },
        "/v1/runs/{run_id}": {
            "get": {
                "operationId": "getRun",
                "parameters": _path_params("run_id"),
                "responses": _responses(
                    {"200": {"description": "Run", **_json("RunEnvelope")}}, 401, 404
                ),
            }
        },
        "/v1/runs/{run_id}/redeliver": {
            "post": {
                "operationId": "redeliverRun",
                "parameters": _path_params("run_id"),
                "responses": _responses(
                    {"202": {"description": "Queued", **_json("RunEnvelope")}}, 401, 404, 409
                ),
            }
        },
        "/v1/webhooks": {
            "get": {
                "operationId": "listWebhooks",
                "responses": _responses(
                    {"200": {"description": "Targets", **_json("WebhookList")}}, 401
                ),
            },
            "post": {
                "operationId": "createWebhook",
                "requestBody": {"required": True, **_json("WebhookCreate")},
                "responses": _responses(
                    {"201": {"description": "Created", **_json("WebhookEnvelope")}}, *client
                ),
            },
        },
        "/v1/webhooks/{webhook_id}": {
            "parameters": _path_params("webhook_id"),
            "get": {
                "operationId": "getWebhook",
                "responses": _responses(
                    {"200": {"description": "Target", **_json("WebhookEnvelope")}}, 401, 404
                ),
            },
            "patch": {
                "operationId": "updateWebhook",
                "requestBody": {"required": True, **_json("WebhookUpdate")},
                "responses": _responses(
                    {"200": {"description": "Updated", **_json("WebhookEnvelope")}}, *client
                ),
            },
            "delete": {
                "operationId": "deleteWebhook",
                "responses": _responses({"204": {"description": "Deleted"}}, 401, 404),
            },
        },
        "/callbacks/{run_id}/{token}": {
            "post": {
                "operationId": "receiveCallback",
                "security": [],
                "parameters": _path_params("run_id", "token"),
                "requestBody": {"required": True, **_json("StoredActionResult")},
                "responses": _responses(
                    {"200": {"description": "Stored", **_json("CallbackAck")}},
                    400,
                    401,
                    403,
                    404,
                    409,
                    413,
                    503,
                ),
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "security": [],
                "responses": {"200": {"description": "Alive"}},
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "security": [],
                "responses": {"200": {"description": "Prometheus text format"}},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "security": [],
                "responses": _responses({"200": {"description": "Ready"}}, 503),
            }
        },
    }


def build_spec(settings=None) -> APISpec:
    spec = APISpec(
        title="Callback Relay",
        version="0.1.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "Relay for Zapier stored-action runs: callbacks, polling, forwards."},
        security=[{"bearer": []}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for components in (stored_actions.COMPONENTS, action_runs.COMPONENTS, RELAY_COMPONENTS):
        for name, schema in components.items():
            spec.components.schema(name, schema=schema)
    for path, operations in _paths().items():
        parameters = operations.pop("parameters", None)
        spec.path(path=path, operations=operations, parameters=parameters)
    return spec
