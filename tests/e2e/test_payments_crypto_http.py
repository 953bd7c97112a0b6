"""Bank accounts (and, below, reconciliation) as a REST client sees them, through the gateway only."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from services.shared.context import ServiceContext
from services.shared.settings import Settings
from tests.e2e.stack import Stack, Tenant, stack_and_gateway
from tests.reconciliation_fixtures import EXAMPLE, seed_example_ledger, unique_partner

IBAN = "DE89 3704 0044 0532 0130 00"


@dataclass
class Platform:
    http: httpx.Client
    payments: ServiceContext  # only to post ledger entries a statement is reconciled against
    stack: Stack


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with stack_and_gateway(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False)) as (stack, client):
        yield Platform(client, stack.contexts["payments"], stack)


@pytest.fixture
def tenant(platform: Platform) -> Tenant:
    return platform.stack.onboard()


@pytest.fixture
def gateway(platform: Platform, tenant: Tenant) -> httpx.Client:
    """The client, calling as `tenant` (a merchant of its own per test)."""
    platform.http.headers.update(tenant.headers)
    return platform.http


def test_register_get_list_and_find_a_bank_account_over_rest(gateway: httpx.Client, tenant: Tenant) -> None:
    merchant = tenant.merchant_code
    body = {"holderName": "Erika Mustermann", "currency": "EUR", "iban": IBAN, "bic": "COBADEFFXXX"}
    created = gateway.post(f"/v1/merchants/{merchant}/bank-accounts", json=body, headers={"Idempotency-Key": "k-1"})
    assert created.status_code == 200, created.text
    account = created.json()["bankAccount"]
    assert account["ibanMasked"] == "DE89 **** **** **** 3000"
    assert "0532013000" not in created.text and "Mustermann" not in created.text

    again = gateway.post(f"/v1/merchants/{merchant}/bank-accounts", json=body, headers={"Idempotency-Key": "k-1"})
    assert again.json() == created.json()

    got = gateway.get(f"/v1/bank-accounts/{account['code']}")
    assert got.status_code == 200 and got.json()["code"] == account["code"]
    listed = gateway.get(f"/v1/merchants/{merchant}/bank-accounts").json()["bankAccounts"]
    assert [a["code"] for a in listed] == [account["code"]]
    found = gateway.post(f"/v1/merchants/{merchant}/bank-accounts:find", json={"iban": "DE89370400440532013000"})
    assert [a["code"] for a in found.json()["bankAccounts"]] == [account["code"]]


def test_bad_bank_account_is_a_problem_naming_the_field(gateway: httpx.Client, tenant: Tenant) -> None:
    merchant = tenant.merchant_code
    bad = gateway.post(
        f"/v1/merchants/{merchant}/bank-accounts",
        json={"holderName": "A B", "currency": "EUR", "iban": "DE89370400440532013001"},
        headers={"Idempotency-Key": "k-bad"},
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["iban"]
    assert "DE89370400440532013001" not in bad.text

    duplicate_body = {"holderName": "A B", "currency": "EUR", "iban": IBAN}
    first = gateway.post(
        f"/v1/merchants/{merchant}/bank-accounts", json=duplicate_body, headers={"Idempotency-Key": "k-2"}
    )
    assert first.status_code == 200
    second = gateway.post(
        f"/v1/merchants/{merchant}/bank-accounts", json=duplicate_body, headers={"Idempotency-Key": "k-3"}
    )
    assert second.status_code == 409 and second.json()["reason"] == "ALREADY_EXISTS"


def test_reconcile_a_statement_and_read_a_merchant_statement_over_rest(platform: Platform) -> None:
    """A partner's statement is an operator's import; the merchant reads its own statement lines."""
    partner = unique_partner()
    merchant = platform.stack.onboard()
    ledger = seed_example_ledger(platform.payments, partner, merchant.merchant_code)
    platform.http.headers.update(platform.stack.operator_headers)
    body = {"statement": base64.b64encode(EXAMPLE.read_bytes()).decode(), "fileName": EXAMPLE.name}
    created = platform.http.post(
        f"/v1/partners/{partner}/settlement-statements", json=body, headers={"Idempotency-Key": "stmt-1"}
    )
    assert created.status_code == 200, created.text
    run = created.json()["reconciliation"]
    assert run["summary"] == {
        "lines": 6,
        "matched": 2,
        "mismatched": 2,
        "missingInLedger": 1,
        "missingInStatement": 1,
        "duplicate": 0,
    }
    again = platform.http.post(
        f"/v1/partners/{partner}/settlement-statements", json=body, headers={"Idempotency-Key": "stmt-2"}
    )
    assert again.json()["alreadyImported"] is True and again.json()["reconciliation"] == run
    got = platform.http.get(f"/v1/reconciliations/{run['code']}")
    assert got.status_code == 200 and got.json()["code"] == run["code"]

    lines = platform.http.get(
        f"/v1/merchants/{ledger['merchant']}/statement-lines",
        params={"fromDate": "2026-11-30", "toDate": "2026-11-30"},
        headers=merchant.headers,
    )
    assert lines.status_code == 200, lines.text
    refs = [line["externalRef"] for line in lines.json()["lines"]]
    assert refs.count("PSP-CH-1001") == 2 and "PSP-CH-0500" not in refs  # 0500 was posted on 2026-11-20

    bad = platform.http.post(
        f"/v1/partners/{partner}/settlement-statements",
        json={"statement": base64.b64encode(b"line_id\nx\n").decode()},
        headers={"Idempotency-Key": "stmt-3"},
    )
    assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == ["statement"]
