"""The Actions API v1 contract, field for field (actions-v1-stored-actions.yaml)."""

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

STATUS_VALUES = ("error", "success", "waiting")
CODE_VALUES = (
    "user",
    "authentication",
    "partner",
    "system",
    "throttled",
    "system_throttled",
    "hydration",
    "authentication_access",
)


class UpstreamBody(Schema):
    """Bodies that come from upstream keep fields the contract does not name (OpenAPI's default)."""

    class Meta:
        unknown = INCLUDE


class ActionsErrorSource(UpstreamBody):
    pointer = fields.Str()
    parameter = fields.Str()
    header = fields.Str()


class ActionsError(UpstreamBody):
    status = fields.Int()
    code = fields.Str()
    title = fields.Str()
    detail = fields.Str()
    source = fields.Nested(ActionsErrorSource, allow_none=True)
    meta = fields.Dict(allow_none=True)


class ActionsErrorResponse(UpstreamBody):
    errors = fields.List(fields.Nested(ActionsError), required=True)


class ActionsFetchError(UpstreamBody):
    code = fields.Str(validate=validate.OneOf(CODE_VALUES))
    title = fields.Str()
    detail = fields.Str()
    delay = fields.Int(strict=True)
    meta = fields.Dict(allow_none=True)


class StoredActionResult(UpstreamBody):
    """The GET run answer, and the callback body ("the same format as the GET run response")."""

    type = fields.Str(dump_default="run")
    id = fields.UUID()
    status = fields.Str(validate=validate.OneOf(STATUS_VALUES))
    results = fields.List(fields.Dict())
    next_page = fields.Str()
    errors = fields.List(fields.Nested(ActionsFetchError), required=True)


class StoredActionsRunRequestInput(Schema):
    class Meta:
        unknown = RAISE

    callback_url = fields.Url(
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=2048),
        metadata={"format": "uri"},
    )
    idempotency_id = fields.UUID()
    # No type in the contract: any JSON value, null included, is passed on as it came.
    inputs = fields.Raw(load_default=dict, allow_none=True, metadata={"default": {}})
    page = fields.Str()


class StoredActionsRunRequest(Schema):
    class Meta:
        unknown = RAISE

    data = fields.Nested(StoredActionsRunRequestInput, required=True)


class StoredActionsRunResponseParams(UpstreamBody):
    type = fields.Str(dump_default="run")
    id = fields.UUID()


class StoredActionsRunResponse(UpstreamBody):
    data = fields.Nested(StoredActionsRunResponseParams, required=True)


COMPONENTS = {
    "ActionsErrorSource": ActionsErrorSource,
    "ActionsError": ActionsError,
    "ActionsErrorResponse": ActionsErrorResponse,
    "ActionsFetchError": ActionsFetchError,
    "StoredActionResult": StoredActionResult,
    "StoredActionsRunRequestInput": StoredActionsRunRequestInput,
    "StoredActionsRunRequest": StoredActionsRunRequest,
    "StoredActionsRunResponseParams": StoredActionsRunResponseParams,
    "StoredActionsRunResponse": StoredActionsRunResponse,
}
