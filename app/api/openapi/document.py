"""The relay's OpenAPI 3.1 document, generated from the marshmallow schemas with apispec."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api.openapi.accounts_paths import ACCOUNTS_COMPONENTS, accounts_paths
from app.api.openapi.operator_paths import OPERATOR_COMPONENTS, operator_paths
from app.api.openapi.parts import (
    BODY_ERRORS,
    IDEMPOTENCY_KEY,
    PENDING,
    REFUSALS,
    UUID_PARAM,
    json_ref,
    parameter_metadata,
    path_params,
    responses,
)
from app.api.openapi.readiness import READY
from app.api.openapi.zap_runs_paths import ZAP_COMPONENTS, zap_paths
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


def _paths() -> dict:
    client = [400, 401, 404, 405, *BODY_ERRORS]
    return {
        "/actions/v1/stored-actions/{stored_action_id}/run": {
            "post": {
                "operationId": "createStoredActionRun",
                "parameters": [*path_params("stored_action_id", fmt=UUID_PARAM), IDEMPOTENCY_KEY],
                "requestBody": {"required": True, **json_ref("RelayStoredActionsRunRequest")},
                "responses": responses(
                    {"202": {"description": "Accepted", **json_ref("StoredActionsRunResponse")}},
                    *REFUSALS,
                    *BODY_ERRORS,
                ),
            }
        },
        "/actions/v1/stored-actions/{stored_action_id}/runs/{run_id}": {
            "get": {
                "operationId": "getStoredActionRun",
                "parameters": path_params("stored_action_id", "run_id"),
                "responses": responses(
                    {
                        "200": {"description": "Result", **json_ref("StoredActionResult")},
                        "202": PENDING,
                    },
                    *REFUSALS,
                ),
            }
        },
        "/v2/action-runs": {
            "post": {
                "operationId": "createActionRun",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {"required": True, **json_ref("RelayRunActionRequest")},
                "responses": responses(
                    {"200": {"description": "Accepted", **json_ref("RunActionResponse")}},
                    *REFUSALS,
                    *BODY_ERRORS,
                ),
            }
        },
        "/v2/action-runs/{run_id}": {
            "get": {
                "operationId": "retrieveActionRun",
                "parameters": path_params("run_id"),
                "responses": responses(
                    {"200": {"description": "The run", **json_ref("ActionRunResponse")}},
                    *REFUSALS,
                ),
            }
        },
        "/v1/runs": {
            "get": {
                "operationId": "listRuns",
                "parameters": [{"in": "query", "schema": relay.RunsQuery}],
                "responses": responses(
                    {"200": {"description": "Runs", **json_ref("RunPage")}}, 400, 401
                ),
            }
        },
        "/v1/runs/{run_id}": {
            "get": {
                "operationId": "getRun",
                "parameters": path_params("run_id"),
                "responses": responses(
                    {"200": {"description": "Run", **json_ref("RunEnvelope")}}, 401, 404
                ),
            }
        },
        "/v1/runs/{run_id}/redeliver": {
            "post": {
                "operationId": "redeliverRun",
                "parameters": path_params("run_id"),
                "responses": responses(
                    {"202": {"description": "Queued", **json_ref("RunEnvelope")}}, 401, 404, 409
                ),
            }
        },
        "/v1/webhooks": {
            "get": {
                "operationId": "listWebhooks",
                "responses": responses(
                    {"200": {"description": "Targets", **json_ref("WebhookList")}}, 401
                ),
            },
            "post": {
                "operationId": "createWebhook",
                "requestBody": {"required": True, **json_ref("WebhookCreate")},
                "responses": responses(
                    {"201": {"description": "Created", **json_ref("WebhookEnvelope")}}, *client
                ),
            },
        },
        "/v1/webhooks/{webhook_id}": {
            "parameters": path_params("webhook_id"),
            "get": {
                "operationId": "getWebhook",
                "responses": responses(
                    {"200": {"description": "Target", **json_ref("WebhookEnvelope")}}, 401, 404
                ),
            },
            "patch": {
                "operationId": "updateWebhook",
                "requestBody": {"required": True, **json_ref("WebhookUpdate")},
                "responses": responses(
                    {"200": {"description": "Updated", **json_ref("WebhookEnvelope")}}, *client
                ),
            },
            "delete": {
                "operationId": "deleteWebhook",
                "responses": responses({"204": {"description": "Deleted"}}, 401, 404),
            },
        },
        "/callbacks/{run_id}/{token}": {
            "post": {
                "operationId": "receiveCallback",
                "security": [],
                "parameters": path_params("run_id", "token"),
                "requestBody": {"required": True, **json_ref("StoredActionResult")},
                "responses": responses(
                    {"200": {"description": "Stored", **json_ref("CallbackAck")}},
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
                "description": "Open unless METRICS_TOKEN is set; then a bearer token.",
                "security": [],
                "responses": responses({"200": {"description": "Prometheus text format"}}, 401),
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "security": [],
                "responses": responses({"200": READY}, 503),
            }
        },
    }


OPEN_IN_SANDBOX = (
    "In sandbox mode (no ZAPIER_ACCESS_TOKEN) with no RELAY_API_KEYS, the client API is open by "
    "design: every request is served without a key, and none answers 401."
)
DESCRIPTION = (
    "Relay for Zapier stored-action runs: callbacks, polling, forwards.\n\n"
    "The client API takes `Authorization: Bearer <key>`, a key from RELAY_API_KEYS. "
    + OPEN_IN_SANDBOX
)


def build_spec() -> APISpec:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Callback Relay",
        version="0.1.0",
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION},
        security=[{"bearer": []}],
    )
    plugin.converter.add_parameter_attribute_function(parameter_metadata)
    bearer = {"type": "http", "scheme": "bearer", "description": OPEN_IN_SANDBOX}
    spec.components.security_scheme("bearer", bearer)
    every = (
        stored_actions.COMPONENTS,
        action_runs.COMPONENTS,
        RELAY_COMPONENTS,
        ZAP_COMPONENTS,
        OPERATOR_COMPONENTS,
        ACCOUNTS_COMPONENTS,
    )
    for components in every:
        for name, schema in components.items():
            spec.components.schema(name, schema=schema)
    every_path = {**_paths(), **zap_paths(), **operator_paths(), **accounts_paths()}
    for path, operations in every_path.items():
        parameters = operations.pop("parameters", None)
        spec.path(path=path, operations=operations, parameters=parameters)
    return spec
