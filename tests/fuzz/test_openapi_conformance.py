"""schemathesis against /openapi.json in-process: no 5xx, documented statuses and shapes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.openapi.document import build_spec
from tests.conftest import API_KEY

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# The ids come from the same builder the app serves; the test then loads the served document.
OPERATIONS = {
    op["operationId"]: op
    for path in build_spec().to_dict()["paths"].values()
    for op in path.values()
    if isinstance(op, dict) and "operationId" in op
}


def _can_be_invalid(op: dict) -> bool:
    """Negative data exists only for a body or a parameter narrower than any string."""
    typed = [p for p in op.get("parameters", []) if p["schema"] != {"type": "string"}]
    return "requestBody" in op or bool(typed)


CASES = [(op_id, GenerationMode.POSITIVE) for op_id in sorted(OPERATIONS)] + [
    (op_id, GenerationMode.NEGATIVE)
    for op_id, op in sorted(OPERATIONS.items())
    if _can_be_invalid(op)
]


@pytest.mark.parametrize(("operation_id", "mode"), CASES, ids=lambda v: str(v))
def test_operation_conforms_to_the_served_document(relay_schema, operation_id, mode):
    operation = relay_schema.find_operation_by_id(operation_id)

    @settings(
        max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(headers=AUTH, checks=CHECKS)

    check()


WITH_IDS = sorted(
    op_id
    for path, ops in build_spec().to_dict()["paths"].items()
    if "{" in path
    for op_id in (o.get("operationId") for o in ops.values() if isinstance(o, dict))
    if op_id
)


@pytest.mark.parametrize("operation_id", WITH_IDS)
def test_operation_conforms_on_real_ids(relay_schema, real_ids, operation_id):
    """The same checks on ids that exist, so success answers meet their schemas too."""
    operation = relay_schema.find_operation_by_id(operation_id)
    names = {p.name for p in operation.path_parameters}
    ids = dict(real_ids)
    if operation.path.startswith("/v2/action-runs"):
        ids["run_id"] = real_ids["action_run_id"]
    fixed = {name: value for name, value in ids.items() if name in names}

    @settings(
        max_examples=20, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(path_parameters=fixed))
    def check(case):
        case.call_and_validate(headers=AUTH, checks=CHECKS)

    check()


def test_every_served_operation_is_fuzzed(relay_schema):
    served = {
        result.ok().definition.raw.get("operationId")
        for result in relay_schema.get_all_operations()
    }
    assert served == set(OPERATIONS)


def test_every_body_documents_its_size_and_type_refusals():
    """413 wherever a body is read; 415 wherever the client API insists on JSON."""
    for path, ops in build_spec().to_dict()["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "requestBody" not in op:
                continue
            documented = set(op["responses"])
            assert "413" in documented, (method, path)
            if op.get("security", ["client"]):  # the client API, not upstream's callbacks
                assert "415" in documented, (method, path)
