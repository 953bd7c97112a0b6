"""/openapi.json: a valid OpenAPI 3.1 document listing every scoped, http-annotated RPC."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.app import create_app
from gateway.descriptors import discover, exposed_methods
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    app = create_app(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    client = AsgiClient(app)
    response = client.get("/openapi.json")
    client.close()
    app.state.backends.close()
    assert response.status_code == 200
    yield response.json()


def test_document_is_valid_openapi_3_1(document: dict) -> None:
    from openapi_spec_validator import validate

    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_annotated_rpc_is_an_operation(document: dict) -> None:
    expected = {m.operation_id for m in exposed_methods(discover()) if m.bindings}
    operations = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    assert expected and expected <= set(operations)
    for method in exposed_methods(discover()):
        if not method.bindings:  # gRPC only (operator keys, key verification)
            continue
        operation = operations[method.operation_id]
        assert operation["x-required-scope"] == method.required_scope
        assert operation["x-grpc-method"] == method.grpc_path
        assert operation["tags"] == [method.descriptor.containing_service.name]


def test_currency_schema_uses_proto3_json_names_and_data_classes(document: dict) -> None:
    get = document["paths"]["/v1/currencies/{code}"]["get"]
    (code,) = get["parameters"]
    assert (code["name"], code["in"], code["required"]) == ("code", "path", True)
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"] == "#/components/schemas/xborder.payments.v1.Currency"
    currency = document["components"]["schemas"]["xborder.payments.v1.Currency"]
    assert currency["properties"]["minorUnit"]["type"] == "integer"
    assert currency["properties"]["entities"]["type"] == "array"
    assert all(p["x-data-class"] == "PUBLIC" for p in currency["properties"].values())
    assert currency["additionalProperties"] is False


def test_rate_query_parameters_and_problem_responses(document: dict) -> None:
    get = document["paths"]["/v1/fx/reference-rates"]["get"]
    assert {p["name"] for p in get["parameters"] if p["in"] == "query"} == {"base", "quote", "date"}
    assert get["responses"]["default"]["$ref"] == "#/components/responses/Problem"
    problem = document["components"]["responses"]["Problem"]["content"]["application/problem+json"]["schema"]
    assert problem["$ref"] == "#/components/schemas/Problem"
    assert {"reason", "correlation_id", "errors"} <= set(document["components"]["schemas"]["Problem"]["properties"])


def test_a_date_field_is_documented_as_a_date_string_or_its_object(document: dict) -> None:
    request = document["paths"]["/v1/compliance/checks"]["post"]["requestBody"]["content"]["application/json"]
    name = request["schema"]["$ref"].removeprefix("#/components/schemas/")
    as_of = document["components"]["schemas"][name]["properties"]["asOf"]
    assert as_of["oneOf"] == [{"type": "string", "format": "date"}, {"$ref": "#/components/schemas/google.type.Date"}]


def test_the_bearer_scheme_and_which_operations_need_it(document: dict) -> None:
    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    public = document["paths"]["/v1/currencies/{code}"]["get"]
    assert (public["security"], public["x-tenancy"]) == ([], "public")
    balances = document["paths"]["/v1/merchants/{merchant_code}/balances"]["get"]
    assert balances["security"] == [
        {"apiKey": ["payments.ledger.read"]},
        {"oauth2": ["payments.ledger.read"]},
        {"opsSession": ["payments.ledger.read"]},
    ]
    assert balances["x-tenancy"] == "merchant" and "x-step-up" not in balances
    verify = document["paths"]["/v1/ledger:verify"]["get"]
    assert verify["x-tenancy"] == "ops"
    assert {"apiKey", "opsSession"} == {name for option in verify["security"] for name in option}
    login = document["paths"]["/v1/operators:login"]["post"]
    assert (login["security"], login["x-tenancy"]) == ([], "sign-in")
    assert document["paths"]["/v1/operators"]["post"]["x-step-up"] is True
    decide = document["paths"]["/v1/merchants/{merchant_code}:decide-hold"]["post"]
    assert decide["security"] == [{"opsSession": ["identity.holds.decide"]}] and decide["x-step-up"] is True
