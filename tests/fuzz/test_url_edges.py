"""Path and query parameters at the edges, on every operation of the served document: NUL,
encoded invalid UTF-8, overlong ids. Never a 5xx; every refusal in the one error shape."""

from __future__ import annotations

import re

import pytest

from app.api.openapi.document import build_spec

PROBES = ("%00", "a%00b", "%ED%A0%80", "%C0%AF", "%FF", "x" * 5000, "..%2F..%2Fetc")
DOCUMENT = build_spec().to_dict()["paths"]
TEMPLATED = sorted(path for path in DOCUMENT if "{" in path)
QUERIES = sorted(
    (path, p["name"])
    for path, ops in DOCUMENT.items()
    for op in ops.values()
    if isinstance(op, dict)
    for p in op.get("parameters", [])
    if p["in"] == "query"
)


def _shape_problem(response) -> str | None:
    """None when the answer is no 5xx and any refusal is in the one error shape."""
    if response.status_code >= 500:
        return f"{response.status_code}: {response.get_data(as_text=True)[:300]}"
    if response.status_code >= 400:
        entry = response.get_json()["errors"][0]
        if entry["status"] != response.status_code:
            return f"error entry says {entry['status']}, answer is {response.status_code}"
    return None


@pytest.mark.parametrize("path", TEMPLATED)
def test_path_parameters_at_the_edges(client, sandbox, path):
    methods = [m.upper() for m, op in DOCUMENT[path].items() if isinstance(op, dict)]
    for probe in PROBES:
        url = re.sub(r"\{[^}]+\}", probe, path)
        for method in methods:
            response = client.open(url, method=method, json={})
            assert _shape_problem(response) is None, (method, url, _shape_problem(response))


@pytest.mark.parametrize(("path", "name"), QUERIES)
def test_query_parameters_at_the_edges(client, sandbox, path, name):
    for probe in PROBES:
        response = client.get(f"{path}?{name}={probe}")
        assert _shape_problem(response) is None, (path, name, _shape_problem(response))
