"""The OpenAPI paths and components of Zap Runs watching (/v1/zap-watches, /v1/zap-runs)."""

from __future__ import annotations

from app.api.openapi.parts import BODY_ERRORS, json_ref, path_params, responses
from app.schemas import zap_runs_contract, zap_watches

ZAP_COMPONENTS = {
    **zap_runs_contract.COMPONENTS,
    "ZapWatchCreate": zap_watches.ZapWatchCreate,
    "ZapWatchUpdate": zap_watches.ZapWatchUpdate,
    "ZapWatch": zap_watches.ZapWatch,
    "ZapWatchList": zap_watches.ZapWatchList,
    "ZapWatchEnvelope": zap_watches.ZapWatchEnvelope,
    "StoredZapRunsPage": zap_watches.StoredZapRunsPage,
}


def zap_paths() -> dict:
    client = [400, 401, 404, 405, *BODY_ERRORS]
    return {
        "/v1/zap-runs": {
            "get": {
                "operationId": "listZapRuns",
                "parameters": [{"in": "query", "schema": zap_watches.StoredZapRunsQuery}],
                "responses": responses(
                    {"200": {"description": "Stored Zap runs", **json_ref("StoredZapRunsPage")}},
                    400,
                    401,
                ),
            }
        },
        "/v1/zap-watches": {
            "get": {
                "operationId": "listZapWatches",
                "responses": responses(
                    {"200": {"description": "Watches", **json_ref("ZapWatchList")}}, 401
                ),
            },
            "post": {
                "operationId": "createZapWatch",
                "requestBody": {"required": True, **json_ref("ZapWatchCreate")},
                "responses": responses(
                    {"201": {"description": "Created", **json_ref("ZapWatchEnvelope")}}, *client
                ),
            },
        },
        "/v1/zap-watches/{watch_id}": {
            "parameters": path_params("watch_id"),
            "get": {
                "operationId": "getZapWatch",
                "responses": responses(
                    {"200": {"description": "Watch", **json_ref("ZapWatchEnvelope")}}, 401, 404
                ),
            },
            "patch": {
                "operationId": "updateZapWatch",
                "requestBody": {"required": True, **json_ref("ZapWatchUpdate")},
                "responses": responses(
                    {"200": {"description": "Updated", **json_ref("ZapWatchEnvelope")}}, *client
                ),
            },
            "delete": {
                "operationId": "deleteZapWatch",
                "responses": responses({"204": {"description": "Deleted"}}, 401, 404),
            },
        },
    }
