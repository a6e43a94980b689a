"""Schemathesis against our OpenAPI spec (/api/v1/_openapi): every operation, as a department admin, with
data that fits the schema and data that does not (wrong types, missing fields, huge numbers): never a 500,
and every refusal carries a Chinese message (issue 8, finding 14).

In-process (the Flask app as a WSGI app, no network), seeded and bounded so it stays within seconds.
"""
from __future__ import annotations

import os

import pytest

from tests.conftest import HEALTH_ID, PROVINCE_ID, api_token

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

#: examples per operation and mode; raise FUZZ_EXAMPLES for a longer hunt
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
#: operations left out: they would end the session under test
SKIPPED = {("POST", "/api/v1/security/refresh")}


@pytest.fixture(scope="module")
def api_schema(app):
    client = app.test_client()
    token = api_token(client, PROVINCE_ID)  # the spec is the province's to read
    spec = client.get("/api/v1/_openapi", headers={"Authorization": f"Bearer {token}"}).json
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    return schema


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def test_the_spec_documents_every_rest_route(app, api_schema):
    documented = {(op.method.upper(), op.path) for op in _operations(api_schema)}
    assert ("DELETE", "/api/v1/organisation/{pk}") in documented
    assert ("POST", "/api/v1/review/{kind}/approve") in documented
    assert len(documented) >= 15


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_500_to_a_department_admin(app, fresh_world, api_schema, mode):
    token = api_token(app.test_client(), HEALTH_ID)
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    calls = 0
    for operation in _operations(api_schema):
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        try:
            strategy = operation.as_strategy(generation_mode=mode)
        except Exception:  # noqa: BLE001 - an operation with nothing negative to generate
            continue

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def exercise(case):
            nonlocal calls
            response = case.call(headers={**(case.headers or {}), **headers})
            calls += 1
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query, case.body, response.status_code,
                                 response.text[:300]))
            elif response.status_code >= 400 and "json" in (response.headers.get("Content-Type") or [""])[0]:
                message = (response.json() or {}).get("message", "")
                if not isinstance(message, str) or message.isascii():
                    failures.append((case.method, case.formatted_path, "English message", message))

        exercise()
    assert calls > 50
    assert failures == [], "\n".join(repr(f)[:500] for f in failures[:10])
