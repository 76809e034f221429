"""The OpenAPI paths and components of the operator surface: deliveries, recovery, rotation."""

from __future__ import annotations

from app.api.openapi.parts import BODY_ERRORS, json_ref, path_params, responses
from app.schemas import operator

# WebhookHealth is registered through Webhook, which nests it.
OPERATOR_COMPONENTS = {
    "DeliveryDetail": operator.DeliveryDetail,
    "DeliveryPage": operator.DeliveryPage,
    "DeliveryEnvelope": operator.DeliveryEnvelope,
    "RecoverRequest": operator.RecoverRequest,
    "Recovered": operator.Recovered,
    "RecoveredEnvelope": operator.RecoveredEnvelope,
    "RotatedWebhook": operator.RotatedWebhook,
    "RotatedEnvelope": operator.RotatedEnvelope,
}


def operator_paths() -> dict:
    delivery = path_params("delivery_id")
    webhook = path_params("webhook_id")
    return {
        "/v1/deliveries": {
            "get": {
                "operationId": "listDeliveries",
                "parameters": [{"in": "query", "schema": operator.DeliveriesQuery}],
                "responses": responses(
                    {"200": {"description": "Deliveries", **json_ref("DeliveryPage")}}, 400, 401
                ),
            }
        },
        "/v1/deliveries/{delivery_id}": {
            "get": {
                "operationId": "getDelivery",
                "parameters": delivery,
                "responses": responses(
                    {"200": {"description": "Delivery", **json_ref("DeliveryEnvelope")}}, 401, 404
                ),
            }
        },
        "/v1/deliveries/{delivery_id}/redeliver": {
            "post": {
                "operationId": "redeliverDelivery",
                "parameters": delivery,
                "responses": responses(
                    {"202": {"description": "Queued", **json_ref("DeliveryEnvelope")}},
                    401,
                    404,
                    409,
                ),
            }
        },
        "/v1/webhooks/{webhook_id}/recover": {
            "post": {
                "operationId": "recoverWebhook",
                "parameters": webhook,
                "requestBody": {"required": True, **json_ref("RecoverRequest")},
                "responses": responses(
                    {"202": {"description": "Queued", **json_ref("RecoveredEnvelope")}},
                    400,
                    401,
                    404,
                    *BODY_ERRORS,
                ),
            }
        },
        "/v1/webhooks/{webhook_id}/rotate-secret": {
            "post": {
                "operationId": "rotateWebhookSecret",
                "parameters": webhook,
                "responses": responses(
                    {"200": {"description": "Rotated", **json_ref("RotatedEnvelope")}}, 401, 404
                ),
            }
        },
    }
