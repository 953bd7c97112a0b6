"""Bank accounts (and, below, reconciliation) as a REST client sees them, through the gateway only."""

from __future__ import annotations

import httpx

from services.shared import codes
from tests.e2e.test_gateway_http import gateway  # noqa: F401  (the module's running gateway)

IBAN = "DE89 3704 0044 0532 0130 00"


def test_register_get_list_and_find_a_bank_account_over_rest(gateway: httpx.Client) -> None:  # noqa: F811
    merchant = codes.generate("MC", "E")
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


def test_bad_bank_account_is_a_problem_naming_the_field(gateway: httpx.Client) -> None:  # noqa: F811
    merchant = codes.generate("MC", "E")
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
