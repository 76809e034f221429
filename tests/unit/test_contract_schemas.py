"""The marshmallow schemas, rendered by apispec, are identical to the contract's components."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api.openapi.document import build_spec
from app.schemas import action_runs, stored_actions, zap_runs_contract

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "contract"
FILES = {
    "actions-v1-stored-actions.yaml": stored_actions.COMPONENTS,
    "partner-v2-action-runs.yaml": action_runs.COMPONENTS,
}
# The relay does not publish zap runs in build_spec() yet: rendered on their own. The file's
# error components are action_runs' (the same but for descriptions), checked against it too.
ZAP_RUNS_FILE = "partner-v2-zap-runs.yaml"
ZAP_RUNS_SHARED = ("ErrorSource", "Error", "ErrorResponse")


def _contract(name: str) -> dict:
    if not CONTRACT.exists():
        pytest.skip(f"contract folder not found at {CONTRACT}")
    return yaml.safe_load((CONTRACT / name).read_text())["components"]["schemas"]


def _resolve(prop: dict, components: dict) -> dict:
    """Follow $ref / allOf / oneOf / anyOf to one canonical description of a property."""
    types: set[str] = set()
    out: dict = {}
    options = prop.get("oneOf") or prop.get("anyOf") or prop.get("allOf") or [prop]
    for option in options:
        if "$ref" in option:
            name = option["$ref"].rsplit("/", 1)[-1]
            target = components.get(name, {})
            if "enum" in target:
                option = {**target}
            else:
                types.add("object")
                out["ref"] = name
                continue
        kind = option.get("type")
        if kind is not None:
            types.update(kind if isinstance(kind, list) else [kind])
        for key in ("format", "enum"):
            if key in option:
                out[key] = sorted(option[key]) if key == "enum" else option[key]
        if "items" in option:
            out["items"] = _resolve(option["items"], components)
    if "format" in prop:
        out["format"] = prop["format"]
    out["types"] = sorted(types)
    return out


def _render_alone(components: dict) -> dict:
    spec = APISpec("alone", "0", "3.1.0", plugins=[MarshmallowPlugin()])
    for name, schema in components.items():
        spec.components.schema(name, schema=schema)
    return spec.to_dict()["components"]["schemas"]


def _cases():
    spec = build_spec().to_dict()["components"]["schemas"]
    for file, names in FILES.items():
        for name in names:
            yield pytest.param(file, name, spec, id=f"{file.split('.')[0]}::{name}")
    with_zap_runs = {**spec, **_render_alone(zap_runs_contract.COMPONENTS)}
    for name in (*zap_runs_contract.COMPONENTS, *ZAP_RUNS_SHARED):
        yield pytest.param(ZAP_RUNS_FILE, name, with_zap_runs, id=f"zap-runs::{name}")


@pytest.mark.parametrize(("file", "name", "rendered_all"), list(_cases()))
def test_component_matches_contract(file, name, rendered_all):
    contract_all = _contract(file)
    contract = contract_all[name]
    rendered = rendered_all[name]
    assert sorted(rendered.get("properties", {})) == sorted(contract.get("properties", {}))
    assert sorted(rendered.get("required", [])) == sorted(contract.get("required", []))
    for prop, expected in contract.get("properties", {}).items():
        got = _resolve(rendered["properties"][prop], rendered_all)
        want = _resolve(expected, contract_all)
        # Names of referenced components are compared through the contract's own names.
        assert got == want, f"{name}.{prop}: rendered {got} != contract {want}"


def test_every_contract_object_schema_has_a_marshmallow_twin():
    for file, names in FILES.items():
        objects = {n for n, s in _contract(file).items() if s.get("type") == "object"}
        assert objects == set(names), file
    zap_objects = {n for n, s in _contract(ZAP_RUNS_FILE).items() if s.get("type") == "object"}
    assert zap_objects == {*zap_runs_contract.COMPONENTS, *ZAP_RUNS_SHARED}


def test_openapi_json_publishes_contract_names(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    for names in FILES.values():
        assert set(names) <= set(schemas)
