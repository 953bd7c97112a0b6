"""Schemathesis against the running gateway, as a merchant with a valid key: requests drawn from
/openapi.json never get a 5xx, and every answer fits the schema the document states for it.

The unified-code format is registered with a generator of check-valid codes, so path parameters reach the
servicers rather than stopping at the check character; a path that names a merchant names this one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from services.shared import codes
from services.shared.field_rules import FORMAT_NAMES, Format
from tests.e2e.stack import Stack

EXAMPLES_PER_OPERATION = 6
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _check_valid_codes() -> st.SearchStrategy[str]:
    body = st.tuples(
        st.sampled_from(sorted(codes.ENTITY_TYPES)),
        st.sampled_from(sorted(codes.ZONES)),
        st.text(alphabet=codes.ALPHABET, min_size=14, max_size=14),
    ).map("".join)
    return body.map(lambda text: text + codes.check_character(text))


schemathesis.openapi.format(FORMAT_NAMES[Format.FORMAT_UNIFIED_CODE], _check_valid_codes())


@pytest.fixture(scope="module")
def schema(gateway: httpx.Client) -> Any:
    document = gateway.get("/openapi.json")
    assert document.status_code == 200
    return schemathesis.openapi.from_dict(document.json())


def test_no_request_from_the_document_gets_a_5xx_or_an_answer_outside_it(
    schema: Any, stack_gateway: tuple[Stack, httpx.Client], merchant: str
) -> None:
    stack, client = stack_gateway
    assert stack.tenant is not None
    headers = stack.tenant.headers
    base_url = str(client.base_url)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    failures: list[str] = []
    calls = 0
    statuses: Counter[int] = Counter()

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        fixed = {"merchant_code": merchant} if "merchant_code" in names else None
        strategy = operation.as_strategy(path_parameters=fixed) if fixed else operation.as_strategy()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except AssertionError as failure:  # schemathesis raises a subclass naming every failed check
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {failure}"[:600])

        run()

    print("calls", calls, "statuses", sorted(statuses.items()))
    assert calls > len(operations)
    # Most answers are refusals of generated values, but valid ones get through to the servicers.
    assert sum(n for status, n in statuses.items() if status < 300) > len(operations) // 4, statuses
    assert not failures, "\n\n".join(failures[:15]) + f"\n\n({len(failures)} failures in {calls} calls)"
