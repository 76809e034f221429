"""Request bodies and query strings loaded with a schema, with 400s in the one error shape."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError

from app.errors import validation_error
from app.schemas.loading import json_object, load_value


def load_body(schema: Schema) -> dict:
    return load_value(schema, json_object(request.get_data(cache=True)))


def load_query(schema: Schema) -> dict:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as err:
        api = validation_error(err)
        for entry in api.errors:
            pointer = (entry["source"] or {}).get("pointer", "")
            entry["source"] = {"parameter": pointer.lstrip("/")}
        raise api from None
