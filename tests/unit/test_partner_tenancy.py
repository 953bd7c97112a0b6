"""Partner tenancy: a partner acts only on what it owns (404 otherwise), only on RPCs open to its kind (403)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from xborder.customer_service.v1 import customer_service_pb2 as cs_pb
from xborder.identity.v1 import partner_service_pb2 as pb
from xborder.logistics.v1 import plans_service_pb2 as plans_pb
from xborder.logistics.v1 import returns_service_pb2 as ret_pb
from xborder.logistics.v1 import shipments_service_pb2 as ship_pb
from xborder.logistics.v1 import warehouses_service_pb2 as wh_pb
from xborder.payments.v1 import reconciliation_service_pb2 as rec_pb

from gateway.partner_auth import partner_principal
from gateway.tenancy import (
    PartnerFacts,
    PartnerOwned,
    Principal,
    admit,
    bind_partner,
    check_partner_answer,
    partner_lookup,
    rule_for,
)
from services.identity.domain import partners
from services.identity.domain.scopes import PARTNER_SCOPES
from services.payments.reconciliation.entrypoints import PARTNER as RECONCILIATION_PARTNER
from services.payments.settlement.service_layer import check_partner
from services.shared import codes
from services.shared.errors import NotFound, PermissionDenied, ValidationError, Violations

PUSH_EVENTS = "/xborder.logistics.v1.ShipmentService/PushTrackingEvents"
PUSH_INVENTORY = "/xborder.logistics.v1.WarehouseService/PushInventory"
RECORD_ODR = "/xborder.customer_service.v1.CustomerService/RecordOdrStatus"
GET_PARTNER = "/xborder.identity.v1.PartnerService/GetPartner"
ONBOARD_PARTNER = "/xborder.identity.v1.PartnerService/OnboardPartner"
IMPORT_RATES = "/xborder.logistics.v1.LogisticsPlanService/ImportRateSheet"
LIST_CHANNELS = "/xborder.logistics.v1.LogisticsPlanService/ListChannels"
IMPORT_TRACKING = "/xborder.logistics.v1.ShipmentService/ImportTrackingFile"
_RETURNS = "/xborder.logistics.v1.ReturnService/"
IN_TRANSIT, RECEIVE, INSPECT = (f"{_RETURNS}{m}" for m in ("RecordReturnInTransit", "ReceiveReturn", "InspectReturn"))


def partner(kind: str, *owns: str, active: bool = True, code: str = "HBG0000000ABCDEFG1") -> Principal:
    facts = PartnerFacts(code, kind, active, frozenset(owns))
    return Principal("f" * 64, None, PARTNER_SCOPES[kind], kind="partner_certificate", partner=facts)


def events(*carriers: str) -> ship_pb.PushTrackingEventsRequest:
    return ship_pb.PushTrackingEventsRequest(
        events=[ship_pb.CarrierEvent(carrier=c, waybill_number="RX1") for c in carriers]
    )


def test_a_partner_is_not_an_operator() -> None:
    caller = partner("LOGISTICS", "HERMES")
    assert not caller.is_operator and caller.is_partner


def test_partners_are_admitted_only_to_rpcs_open_to_their_kind() -> None:
    admit(partner("LOGISTICS", "HERMES"), rule_for(PUSH_EVENTS), "logistics.tracking.write")
    with pytest.raises(PermissionDenied):
        admit(partner("WAREHOUSE", "WH-1"), rule_for(PUSH_EVENTS), "logistics.tracking.write")
    with pytest.raises(PermissionDenied):
        admit(partner("LOGISTICS", "HERMES"), rule_for(ONBOARD_PARTNER), "identity.partners.write")
    for kind in PARTNER_SCOPES:  # every kind reads its own registration
        admit(partner(kind), rule_for(GET_PARTNER), "identity.partners.read")


def test_a_held_partner_is_refused() -> None:
    with pytest.raises(PermissionDenied, match="held"):
        admit(partner("LOGISTICS", "HERMES", active=False), rule_for(PUSH_EVENTS), "logistics.tracking.write")


def test_every_event_must_name_an_owned_carrier() -> None:
    caller = partner("LOGISTICS", "HERMES", "DHL_EXPRESS")
    bind_partner(caller, rule_for(PUSH_EVENTS), events("hermes", " dhl_express ", "Hermes"))
    with pytest.raises(NotFound):
        bind_partner(caller, rule_for(PUSH_EVENTS), events("hermes", "fedex"))


def test_a_warehouse_pushes_only_its_own_codes() -> None:
    caller = partner("WAREHOUSE", "SAMPLE-WH-GB-BHX")
    bind_partner(caller, rule_for(PUSH_INVENTORY), wh_pb.PushInventoryRequest(warehouse_code="sample-wh-gb-bhx"))
    with pytest.raises(NotFound):
        bind_partner(caller, rule_for(PUSH_INVENTORY), wh_pb.PushInventoryRequest(warehouse_code="SAMPLE-WH-DE-HAM"))


def test_a_partner_reads_its_own_registration_filled_when_empty() -> None:
    caller = partner("ODR", "FILE")
    request = pb.GetPartnerRequest()
    bind_partner(caller, rule_for(GET_PARTNER), request)
    assert request.partner_code == caller.partner.code  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        bind_partner(caller, rule_for(GET_PARTNER), pb.GetPartnerRequest(partner_code="HBG0000000ZZZZZZZ1"))


def test_an_odr_case_must_be_the_providers_own() -> None:
    rule, caller = rule_for(RECORD_ODR), partner("ODR", "FILE")
    check_partner_answer(caller, rule, cs_pb.GetOdrCaseResponse(case=cs_pb.OdrCase(provider="file")))
    with pytest.raises(NotFound):
        check_partner_answer(caller, rule, cs_pb.GetOdrCaseResponse(case=cs_pb.OdrCase(provider="http")))
    with pytest.raises(NotFound):
        check_partner_answer(caller, rule, cs_pb.GetOdrCaseResponse())


NAMES = st.text(alphabet="ABCDEFGHJK0123456789_- ", min_size=1, max_size=12).filter(lambda n: n.strip())


@given(owned=st.lists(NAMES, min_size=1, max_size=5), pushed=st.lists(NAMES, min_size=1, max_size=5))
def test_a_batch_passes_exactly_when_every_carrier_is_owned(owned: list[str], pushed: list[str]) -> None:
    violations = Violations()
    owns = partners.owned(owned, partners.PartnerKind.LOGISTICS, violations)
    caller = partner("LOGISTICS", *owns)
    mine = {" ".join(c.split()).upper() for c in pushed} <= set(owns)
    try:
        bind_partner(caller, rule_for(PUSH_EVENTS), events(*pushed))
        passed = True
    except NotFound:
        passed = False
    assert passed == mine


@given(st.lists(NAMES, min_size=1, max_size=5))
def test_owned_names_are_normalised_once(names: list[str]) -> None:
    first = partners.owned(names, partners.PartnerKind.WAREHOUSE, Violations())
    assert partners.owned(list(first), partners.PartnerKind.WAREHOUSE, Violations()) == first
    assert list(first) == sorted(set(first))


def test_a_verified_certificate_becomes_its_partners_principal() -> None:
    reply = pb.VerifyPartnerCertificateResponse(
        partner=pb.Partner(
            partner_code="HBG0000000ABCDEFG1",
            kind=pb.PARTNER_KIND_WAREHOUSE,
            status=pb.PARTNER_STATUS_REVIEW,
            country="GB",
            owns=["SAMPLE-WH-GB-BHX"],
        ),
        scopes=sorted(PARTNER_SCOPES["WAREHOUSE"]),
    )
    principal = partner_principal("ab" * 32, reply)
    assert principal.key_id == "ab" * 32 and principal.scopes == PARTNER_SCOPES["WAREHOUSE"]
    assert principal.partner == PartnerFacts(
        "HBG0000000ABCDEFG1", "WAREHOUSE", False, frozenset({"SAMPLE-WH-GB-BHX"}), "GB"
    )


IMPORT_STATEMENT = "/xborder.payments.v1.ReconciliationService/ImportSettlementStatement"
GET_RECONCILIATION = "/xborder.payments.v1.ReconciliationService/GetReconciliation"
LIST_RECONCILIATIONS = "/xborder.payments.v1.ReconciliationService/ListReconciliations"


def test_only_payment_providers_reconcile() -> None:
    for path, scope in (
        (IMPORT_STATEMENT, "reconciliation.write"),
        (GET_RECONCILIATION, "reconciliation.read"),
        (LIST_RECONCILIATIONS, "reconciliation.read"),
    ):
        admit(partner("PAYMENT", "STRIPE"), rule_for(path), scope)
        for kind in ("LOGISTICS", "WAREHOUSE", "ODR"):
            with pytest.raises(PermissionDenied):
                admit(partner(kind, "STRIPE"), rule_for(path), scope)


def test_a_payment_provider_imports_only_under_its_own_ledger_names() -> None:
    caller, rule = partner("PAYMENT", "ADYEN", "STRIPE"), rule_for(IMPORT_STATEMENT)
    bind_partner(caller, rule, rec_pb.ImportSettlementStatementRequest(partner=" stripe "))
    with pytest.raises(NotFound):
        bind_partner(caller, rule, rec_pb.ImportSettlementStatementRequest(partner="WISE"))
    # Empty is left to the service, whose 400 names the field.
    bind_partner(caller, rule, rec_pb.ImportSettlementStatementRequest())


def test_a_reconciliation_run_must_be_the_providers_own() -> None:
    rule, caller = rule_for(GET_RECONCILIATION), partner("PAYMENT", "STRIPE")
    assert isinstance(rule.partner, PartnerOwned) and rule.partner.via is not None  # the run is read first
    own = rec_pb.GetReconciliationResponse(reconciliation=rec_pb.Reconciliation(partner="STRIPE"))
    check_partner_answer(caller, rule, own)
    for foreign in (rec_pb.Reconciliation(partner="ADYEN"), rec_pb.Reconciliation()):
        with pytest.raises(NotFound):
            check_partner_answer(caller, rule, rec_pb.GetReconciliationResponse(reconciliation=foreign))


def test_a_payment_provider_lists_runs_only_under_its_own_ledger_names() -> None:
    caller, rule = partner("PAYMENT", "ADYEN", "STRIPE"), rule_for(LIST_RECONCILIATIONS)
    bind_partner(caller, rule, rec_pb.ListReconciliationsRequest(partner=" stripe "))
    with pytest.raises(NotFound):
        bind_partner(caller, rule, rec_pb.ListReconciliationsRequest(partner="WISE"))
    # Empty means every partner's runs to the service: a provider must name one of its own.
    with pytest.raises(ValidationError) as refused:
        bind_partner(caller, rule, rec_pb.ListReconciliationsRequest())
    assert refused.value.violations[0].field == "partner"


LEDGER_NAMES = st.text(alphabet="ABCDEFGHJKabc0123456789_-. /", min_size=1, max_size=12)


@given(st.lists(LEDGER_NAMES, min_size=1, max_size=5))
def test_a_payment_providers_names_are_names_the_ledger_and_reconciliation_accept(names: list[str]) -> None:
    violations = Violations()
    owns = partners.owned(names, partners.PartnerKind.PAYMENT, violations)
    if not violations:
        for name in owns:
            problems = Violations()
            check_partner(name, "partner", problems)
            assert not problems and RECONCILIATION_PARTNER.match(name), name


def test_a_carrier_imports_rate_sheets_and_lists_channels_of_its_own_carriers_only() -> None:
    caller = partner("LOGISTICS", "HERMES")
    for path, message in (
        (IMPORT_RATES, plans_pb.ImportRateSheetRequest),
        (LIST_CHANNELS, plans_pb.ListChannelsRequest),
    ):
        admit(caller, rule_for(path), "logistics.rates.write" if path == IMPORT_RATES else "logistics.read")
        bind_partner(caller, rule_for(path), message(carrier=" Hermes "))
        with pytest.raises(NotFound):
            bind_partner(caller, rule_for(path), message(carrier="fedex"))
        # Empty means every carrier's channels to the service: a partner must name one of its own.
        with pytest.raises(ValidationError) as refused:
            bind_partner(caller, rule_for(path), message())
        assert refused.value.violations[0].field == "carrier"
    with pytest.raises(PermissionDenied):
        admit(partner("WAREHOUSE", "SAMPLE-WH-GB-BHX"), rule_for(IMPORT_RATES), "logistics.rates.write")


def test_a_carrier_imports_tracking_files_only_under_its_own_carrier() -> None:
    caller = partner("LOGISTICS", "HERMES")
    admit(caller, rule_for(IMPORT_TRACKING), "logistics.tracking.write")
    bind_partner(caller, rule_for(IMPORT_TRACKING), ship_pb.ImportTrackingFileRequest(carrier="hermes"))
    with pytest.raises(NotFound):
        bind_partner(caller, rule_for(IMPORT_TRACKING), ship_pb.ImportTrackingFileRequest(carrier="fedex"))


def returned(carrier: str = "", warehouse: str = "") -> ret_pb.GetReturnResponse:
    return ret_pb.GetReturnResponse(rma=ret_pb.Return(carrier=carrier, receiving_warehouse=warehouse))


def test_a_returns_steps_are_its_carriers_or_its_receiving_warehouses() -> None:
    carrier, warehouse = partner("LOGISTICS", "HERMES"), partner("WAREHOUSE", "SAMPLE-WH-GB-BHX")
    to_origin, restock = returned(carrier="hermes"), returned(warehouse="SAMPLE-WH-GB-BHX")
    code = codes.generate("TH")
    for path in (IN_TRANSIT, RECEIVE):
        rule = rule_for(path)
        for caller in (carrier, warehouse):
            admit(caller, rule, "logistics.returns.receive")
            lookup = partner_lookup(caller, rule, ret_pb.ReceiveReturnRequest(code=code), ret_pb.GetReturnRequest)
            assert lookup == ret_pb.GetReturnRequest(code=code)
        check_partner_answer(carrier, rule, to_origin)
        check_partner_answer(warehouse, rule, restock)
        for caller, answer in ((carrier, restock), (warehouse, to_origin), (carrier, returned(carrier="fedex"))):
            with pytest.raises(NotFound):
                check_partner_answer(caller, rule, answer)
        with pytest.raises(NotFound):  # no label yet: nobody's parcel
            check_partner_answer(carrier, rule, returned())
    # A carrier hands the parcel over; it does not inspect the goods.
    check_partner_answer(warehouse, rule_for(INSPECT), restock)
    with pytest.raises(PermissionDenied):
        admit(carrier, rule_for(INSPECT), "logistics.returns.receive")
    with pytest.raises(PermissionDenied):
        admit(partner("ODR", "FILE"), rule_for(RECEIVE), "logistics.returns.receive")
