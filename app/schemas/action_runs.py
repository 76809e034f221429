"""The Partner API v2 action-runs contract, field for field (partner-v2-action-runs.yaml)."""

from marshmallow import RAISE, Schema, fields, validate

from app.schemas.stored_actions import (
    STATUS_VALUES,
    ActionsError,
    ActionsErrorResponse,
    ActionsErrorSource,
    ActionsFetchError,
    UpstreamBody,
)

V2_CODE_VALUES = (
    "user",
    "authentication",
    "partner",
    "system",
    "throttled",
    "system_throttled",
    "hydration",
)
RUN_TYPE = ("run",)


class ErrorSource(ActionsErrorSource):
    """The v2 contract's name for the same error source."""


class Error(ActionsError):
    source = fields.Nested(ErrorSource, allow_none=True)


class ErrorResponse(ActionsErrorResponse):
    errors = fields.List(fields.Nested(Error), required=True)


class RunActionRequestData(Schema):
    class Meta:
        unknown = RAISE

    action = fields.Str(required=True, validate=validate.Length(min=1))
    authentication = fields.Str(required=True, allow_none=True)
    inputs = fields.Dict(required=True)


class RunActionRequest(Schema):
    class Meta:
        unknown = RAISE

    data = fields.Nested(RunActionRequestData, required=True)


class RunActionResponseData(UpstreamBody):
    type = fields.Str(required=True, validate=validate.OneOf(RUN_TYPE))
    id = fields.UUID(required=True)


class RunActionResponse(UpstreamBody):
    data = fields.Nested(RunActionResponseData, required=True)


class ActionRunResponseError(ActionsFetchError):
    """ActionsFetchError under the v2 name; its CodeEnum lacks `authentication_access`."""

    code = fields.Str(validate=validate.OneOf(V2_CODE_VALUES))


class ActionRunResponseData(UpstreamBody):
    type = fields.Str(required=True, validate=validate.OneOf(RUN_TYPE))
    status = fields.Str(required=True, validate=validate.OneOf(STATUS_VALUES))
    results = fields.List(fields.Dict())
    errors = fields.List(fields.Nested(ActionRunResponseError), required=True)


class ActionRunResponse(UpstreamBody):
    data = fields.Nested(ActionRunResponseData, required=True)


COMPONENTS = {
    "ErrorSource": ErrorSource,
    "Error": Error,
    "ErrorResponse": ErrorResponse,
    "_RunActionRequest": RunActionRequestData,
    "RunActionRequest": RunActionRequest,
    "_RunActionResponse": RunActionResponseData,
    "RunActionResponse": RunActionResponse,
    "_ActionRunResponseError": ActionRunResponseError,
    "_ActionRunResponse": ActionRunResponseData,
    "ActionRunResponse": ActionRunResponse,
}
