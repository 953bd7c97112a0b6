"""Every response field honours its data class: a PERSONAL_SENSITIVE value is answered only masked.

A field reachable from an RPC's response that is classed PERSONAL_SENSITIVE must declare
`(xborder.common.v1.masked) = true`, and its servicer masks it as the bank-account vault does (the payout's
payee name: tests/integration/test_payout_vault.py). A message-typed field is checked through its own fields.
"""

from __future__ import annotations

from typing import cast

from google.protobuf.descriptor import FieldDescriptor
from xborder.common.v1 import options_pb2

from gateway.descriptors import data_class, discover, walk_fields


def unmasked_sensitive_response_fields() -> set[str]:
    found = set()
    for service in discover():
        for method in service.methods:
            for _, field in walk_fields(method.descriptor.output_type):
                if field.message_type is not None or data_class(field) != "PERSONAL_SENSITIVE":
                    continue
                if not field.GetOptions().Extensions[options_pb2.masked]:
                    found.add(field.full_name)
    return found


def test_sensitive_response_fields_are_declared_masked() -> None:
    assert unmasked_sensitive_response_fields() == set()


def test_the_payout_payee_name_is_declared_masked() -> None:
    from xborder.payments.v1 import ledger_service_pb2 as pb

    payee_name = cast(FieldDescriptor, pb.Payout.DESCRIPTOR.fields_by_name["payee_name"])
    assert data_class(payee_name) == "PERSONAL_SENSITIVE"
    assert payee_name.GetOptions().Extensions[options_pb2.masked]


def test_the_screened_party_shows_its_date_of_birth_and_identifiers_masked() -> None:
    from xborder.compliance.v1 import screening_service_pb2 as pb

    party = pb.ScreenedParty.DESCRIPTOR
    assert party.fields_by_name["date_of_birth"].GetOptions().Extensions[options_pb2.masked]
    value = cast(FieldDescriptor, pb.ScreenedIdentifier.DESCRIPTOR.fields_by_name["value"])
    identifiers = party.fields_by_name["identifiers"].message_type
    assert identifiers is not None and identifiers.full_name == pb.ScreenedIdentifier.DESCRIPTOR.full_name
    assert data_class(value) == "PERSONAL_SENSITIVE" and value.GetOptions().Extensions[options_pb2.masked]
