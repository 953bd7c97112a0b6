"""Who may call each RPC, and for which merchant: the gateway's tenancy rules, checked on both doors.

Every exposed RPC has one rule (tests/contract/test_tenancy_rules.py fails on an RPC without one):

- PUBLIC: reference data; no credential needed.
- MERCHANT: a merchant's key acts only for its own merchant. `request_field` names the request's merchant
  code (dotted, through repeated messages): left empty it is filled with the caller's code, another code
  is answered 404 as if it did not exist. `owner` names a read RPC whose answer says whose resource a
  write touches, asked first, so a write on another merchant's collection or payout is refused before
  it happens. Every `merchant_code` in the answer is checked: another merchant's entry of a list is
  dropped, another merchant's resource is a 404. Never 403: a code of another tenant must not leak.
- OPS: operator keys only (ledger administration, fee tiers, payout review, partner statements, ODR
  escalations, provider statuses, the ODR case list and delivery retries).
- SIGN_IN: no credential; the request carries one (an ops login with password and TOTP code, or with an
  ID token of the identity provider).
- INTERNAL: never served through the gateway (key verification, token issue: the gateway's own calls;
  record owners: other services' link checks).

`step_up`: when the caller is an ops session, its last TOTP code must be within the step-up window
(sensitive calls: keys, OAuth clients, operator management); API keys and access tokens are machine
credentials with no second factor and are not asked. `session_field` is filled with the caller's own
session id (an ops session acting on itself: step-up, logout); any other caller is refused.

`partner`: the RPC is open to partners (an mTLS client certificate on the gRPC front door), each acting
only on what is its own: every value of the named request field must be one of the names the partner owns
(its carriers, its warehouse codes, its ledger partner names), or, with `via`, the resource's answer must
name one (an ODR case's provider, a return's carrier or receiving warehouse, a reconciliation run's
partner); anything else is a 404, as if it did not exist. An RPC open to several kinds has one partner rule
per kind (a return's steps: its carrier's or its warehouse's). `required`: a partner must name the field (a
rate sheet's carrier), or the call would reach past its own; an empty one is a 400 naming the field. A
partner calling an RPC without a partner rule for its kind is refused (403), as is a partner held after
onboarding screening.

`ops_only`: answer fields only operators and ops sessions see (who decided on a hold); a merchant or a
partner reading its own registration gets the decision, its date and reason, not the deciding login.

A merchant code a call names must belong to an ACTIVE merchant, whoever calls: an unknown one is a 404,
a held one (REVIEW or BLOCK at onboarding, or REJECTED by a compliance officer) a 403 MERCHANT_HELD; a
merchant key of a held merchant is refused everywhere except public routes and reading its own
registration. A decision on a hold (`allow_held`, `session_field`) names a held merchant on purpose.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.shared import codes
from services.shared.errors import MerchantHeld, NotFound, PermissionDenied, StepUpRequired, ValidationError

MERCHANT_FIELD = "merchant_code"
SESSION_FIELD = "session_id"
OPS_SESSION = "ops_session"


class Kind(enum.Enum):
    PUBLIC = "public"
    MERCHANT = "merchant"
    OPS = "ops"
    SIGN_IN = "sign-in"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Owner:
    """The read RPC that tells whose resource a write touches: its path, and request field <- this RPC's field."""

    rpc: str
    field: str
    from_field: str


@dataclass(frozen=True)
class PartnerOwned:
    """What a partner's call touches and how it is checked to be the partner's own.

    `field`: the request field (dotted, through repeated messages), or with `via` the field of the read's
    answer (dotted), whose values must be the partner's own. `kind`: the partner kind admitted (None: any).
    `own_code`: the field holds a partner code, which must be the caller's own (filled when empty).
    `required`: a partner may not leave the request field empty (empty means "everything" to the service).
    """

    field: str
    kind: str | None = None
    via: Owner | None = None
    own_code: bool = False
    required: bool = False


@dataclass(frozen=True)
class Rule:
    kind: Kind
    request_field: str | None = None
    owner: Owner | None = None
    allow_held: bool = False
    """The merchant may call it while held (reading its own registration, revoking its keys)."""
    step_up: bool = False
    """An ops session needs a recent TOTP code (the step-up window) to call it."""
    session_field: str | None = None
    """The request field that names the caller's own ops session (filled by the gateway)."""
    partner: PartnerOwned | tuple[PartnerOwned, ...] | None = None
    """Partners may call it, on what is their own (see the module docstring); one rule per kind when several
    kinds may."""
    ops_only: tuple[str, ...] = ()
    """Answer fields (dotted, through repeated messages) only operators and ops sessions see: cleared for a
    merchant's or a partner's caller (who decided on a hold: an ops staff member's login)."""

    def partner_rules(self) -> tuple[PartnerOwned, ...]:
        if self.partner is None:
            return ()
        return self.partner if isinstance(self.partner, tuple) else (self.partner,)

    def partner_for(self, kind: str) -> PartnerOwned | None:
        """The partner rule that applies to a partner of this kind, or None when the RPC is not open to it."""
        return next((owned for owned in self.partner_rules() if owned.kind in (None, kind)), None)


PUBLIC = Rule(Kind.PUBLIC)
SIGN_IN = Rule(Kind.SIGN_IN)
OPS = Rule(Kind.OPS)
INTERNAL = Rule(Kind.INTERNAL)
BY_REQUEST = Rule(Kind.MERCHANT, request_field=MERCHANT_FIELD)
BY_RESPONSE = Rule(Kind.MERCHANT)

_C = "xborder.compliance.v1."
_P = "xborder.payments.v1."
_L = "xborder.logistics.v1."
_I = "xborder.identity.v1."
_T = "xborder.customer_service.v1."
_COLLECTION = Owner(f"/{_P}LedgerService/GetCollection", "collection_code", "collection_code")
_PAYOUT = Owner(f"/{_P}LedgerService/GetPayout", "payout_code", "payout_code")
_RESERVATION = Owner(f"/{_L}WarehouseService/GetReservation", "code", "code")
_OUTBOUND = Owner(f"/{_L}WarehouseService/GetOutboundOrder", "code", "code")
_TICKET = Owner(f"/{_T}CustomerService/GetTicket", "code", "code")
_SHIPMENT = Owner(f"/{_L}ShipmentService/GetTracking", "code", "shipment_code")
_RETURN = Owner(f"/{_L}ReturnService/GetReturn", "code", "code")
_INBOUND = Owner(f"/{_L}WarehouseService/GetInboundShipment", "code", "code")
_ODR_CASE = Owner(f"/{_T}CustomerService/GetOdrCase", "ticket_code", "ticket_code")
_RECONCILIATION = Owner(f"/{_P}ReconciliationService/GetReconciliation", "code", "code")
PARTNER_FIELD = "partner_code"
LOGISTICS, WAREHOUSE, ODR, PAYMENT = "LOGISTICS", "WAREHOUSE", "ODR", "PAYMENT"
_RETURN_CARRIER = PartnerOwned("rma.carrier", LOGISTICS, via=_RETURN)
_RETURN_WAREHOUSE = PartnerOwned("rma.receiving_warehouse", WAREHOUSE, via=_RETURN)

RULES: dict[str, Rule] = {
    # Reference data.
    f"/{_C}ComplianceService/GetHsCode": PUBLIC,
    f"/{_C}ComplianceService/SearchHsCodes": PUBLIC,
    f"/{_P}PaymentsService/GetCurrency": PUBLIC,
    f"/{_P}PaymentsService/ListCurrencies": PUBLIC,
    f"/{_P}PaymentsService/GetReferenceRate": PUBLIC,
    f"/{_L}LogisticsService/GetCountry": PUBLIC,
    f"/{_L}LogisticsService/ListCountries": PUBLIC,
    f"/{_L}LogisticsService/GetStatusCode": PUBLIC,
    f"/{_L}LogisticsService/ListStatusCodes": PUBLIC,
    # Compliance.
    f"/{_C}ProductComplianceService/CheckProduct": BY_REQUEST,
    f"/{_C}ProductComplianceService/BatchCheckProducts": Rule(Kind.MERCHANT, request_field="checks.merchant_code"),
    f"/{_C}ProductComplianceService/GetProductCheck": BY_RESPONSE,
    f"/{_C}ProductComplianceService/GetRuleLibrary": Rule(Kind.MERCHANT),
    f"/{_C}ProductComplianceService/ListRules": Rule(Kind.MERCHANT),
    f"/{_C}RiskAlertService/ListRiskAlerts": BY_REQUEST,
    f"/{_C}RiskAlertService/GetRiskAlert": BY_RESPONSE,
    f"/{_C}RiskAlertService/AcknowledgeRiskAlert": Rule(
        Kind.MERCHANT, owner=Owner(f"/{_C}RiskAlertService/GetRiskAlert", "code", "code")
    ),
    f"/{_C}ScreeningService/ScreenParty": BY_REQUEST,
    f"/{_C}ScreeningService/GetScreening": BY_RESPONSE,
    f"/{_C}ScreeningService/ListScreenings": BY_REQUEST,
    # Payments: bank accounts.
    f"/{_P}BankAccountService/RegisterBankAccount": BY_REQUEST,
    f"/{_P}BankAccountService/GetBankAccount": BY_RESPONSE,
    f"/{_P}BankAccountService/ListBankAccounts": BY_REQUEST,
    f"/{_P}BankAccountService/FindBankAccounts": BY_REQUEST,
    # Payments: FX and value-added services.
    f"/{_P}FxService/GetExecutableRate": BY_REQUEST,
    f"/{_P}FxService/CreateQuote": BY_REQUEST,
    f"/{_P}FxService/GetQuote": BY_RESPONSE,
    f"/{_P}FxService/ConvertQuote": Rule(
        Kind.MERCHANT, MERCHANT_FIELD, Owner(f"/{_P}FxService/GetQuote", "code", "code")
    ),
    f"/{_P}FxService/CreateInsuranceQuote": BY_REQUEST,
    f"/{_P}FxService/CreateFinancingOffer": BY_REQUEST,
    f"/{_P}FxService/GetOffer": BY_RESPONSE,
    f"/{_P}FxService/AcceptOffer": Rule(
        Kind.MERCHANT, MERCHANT_FIELD, Owner(f"/{_P}FxService/GetOffer", "code", "code")
    ),
    # Payments: ledger, collections, payouts.
    f"/{_P}LedgerService/OpenAccount": OPS,
    f"/{_P}LedgerService/GetAccount": OPS,
    f"/{_P}LedgerService/ListAccounts": OPS,
    f"/{_P}LedgerService/ListTransactions": OPS,
    f"/{_P}LedgerService/VerifyLedger": OPS,
    f"/{_P}LedgerService/GetBalances": BY_REQUEST,
    f"/{_P}LedgerService/RecordCollection": BY_REQUEST,
    f"/{_P}LedgerService/GetCollection": BY_RESPONSE,
    f"/{_P}LedgerService/ConfirmSettlement": Rule(Kind.MERCHANT, owner=_COLLECTION),
    f"/{_P}LedgerService/RefundCollection": Rule(Kind.MERCHANT, owner=_COLLECTION),
    f"/{_P}LedgerService/CreatePayout": BY_REQUEST,
    f"/{_P}LedgerService/GetPayout": BY_RESPONSE,
    f"/{_P}LedgerService/PostPayout": Rule(Kind.MERCHANT, owner=_PAYOUT),
    f"/{_P}LedgerService/VoidPayout": Rule(Kind.MERCHANT, owner=_PAYOUT),
    f"/{_P}LedgerService/ReleasePayout": OPS,
    f"/{_P}LedgerService/SetMerchantTier": Rule(Kind.OPS, request_field=MERCHANT_FIELD),
    f"/{_P}LedgerService/ListFeeSchedules": Rule(Kind.MERCHANT),
    # Whose a collection or payout is, for other services' link checks.
    f"/{_P}LedgerService/GetRecordOwner": INTERNAL,
    # Payments: reconciliation. A payment provider imports its own settlement statements (under a ledger
    # partner name it owns), lists its own runs (naming the partner) and reads back its own runs (the run's
    # answer must name one; the read is its own ownership check, so it is checked on its answer, not read
    # twice).
    f"/{_P}ReconciliationService/ImportSettlementStatement": Rule(Kind.OPS, partner=PartnerOwned("partner", PAYMENT)),
    f"/{_P}ReconciliationService/GetReconciliation": Rule(
        Kind.OPS, partner=PartnerOwned("reconciliation.partner", PAYMENT, via=_RECONCILIATION)
    ),
    f"/{_P}ReconciliationService/ListReconciliations": Rule(
        Kind.OPS, partner=PartnerOwned("partner", PAYMENT, required=True)
    ),
    f"/{_P}ReconciliationService/ListStatementLines": BY_REQUEST,
    # Logistics plans: any merchant matches plans on the channel catalogue (warehouse plans from its own
    # stock); a carrier lists its own channels and imports their rate sheets (naming the carrier), operators
    # any channel's.
    f"/{_L}LogisticsPlanService/MatchPlans": BY_REQUEST,
    f"/{_L}LogisticsPlanService/ListChannels": Rule(
        Kind.MERCHANT, partner=PartnerOwned("carrier", LOGISTICS, required=True)
    ),
    f"/{_L}LogisticsPlanService/ImportRateSheet": Rule(
        Kind.OPS, partner=PartnerOwned("carrier", LOGISTICS, required=True)
    ),
    # Shipments belong to their merchant; carriers push their own tracking events and files (the logistics
    # service then takes an event only for a shipment whose channel that carrier tracks), or operators for them.
    f"/{_L}ShipmentService/BookShipment": BY_REQUEST,
    f"/{_L}ShipmentService/GetTracking": BY_RESPONSE,
    f"/{_L}ShipmentService/PushTrackingEvents": Rule(Kind.OPS, partner=PartnerOwned("events.carrier", LOGISTICS)),
    f"/{_L}ShipmentService/ImportTrackingFile": Rule(Kind.OPS, partner=PartnerOwned("carrier", LOGISTICS)),
    # A return (RMA) belongs to its shipment's merchant. The parcel's steps are reported by whoever holds it,
    # or by operators: returning to origin, the carrier of the reverse-lane channel (in transit, received);
    # restocking, the receiving warehouse, whose fee covers the local return leg (in transit, received,
    # inspected). A carrier does not inspect goods: a return to origin is inspected through operators.
    f"/{_L}ReturnService/AuthoriseReturn": Rule(Kind.MERCHANT, owner=_SHIPMENT),
    f"/{_L}ReturnService/GetReturn": BY_RESPONSE,
    f"/{_L}ReturnService/IssueReturnLabel": Rule(Kind.MERCHANT, owner=_RETURN),
    f"/{_L}ReturnService/DecideReturnDisposition": Rule(Kind.MERCHANT, owner=_RETURN),
    f"/{_L}ReturnService/RequestReturnRefund": Rule(Kind.MERCHANT, owner=_RETURN),
    f"/{_L}ReturnService/RejectReturn": Rule(Kind.MERCHANT, owner=_RETURN),
    f"/{_L}ReturnService/CancelReturn": Rule(Kind.MERCHANT, owner=_RETURN),
    f"/{_L}ReturnService/RecordReturnInTransit": Rule(Kind.OPS, partner=(_RETURN_CARRIER, _RETURN_WAREHOUSE)),
    f"/{_L}ReturnService/ReceiveReturn": Rule(Kind.OPS, partner=(_RETURN_CARRIER, _RETURN_WAREHOUSE)),
    f"/{_L}ReturnService/InspectReturn": Rule(Kind.OPS, partner=_RETURN_WAREHOUSE),
    # Warehouses: a merchant's stock, reservations and orders are its own; warehouses push stock and report
    # order statuses with their certificates (their own warehouse codes only) or through operator keys.
    f"/{_L}WarehouseService/ListWarehouses": BY_RESPONSE,
    f"/{_L}WarehouseService/PushInventory": Rule(Kind.OPS, partner=PartnerOwned("warehouse_code", WAREHOUSE)),
    f"/{_L}WarehouseService/GetStock": BY_REQUEST,
    f"/{_L}WarehouseService/ListStock": BY_REQUEST,
    f"/{_L}WarehouseService/ReserveStock": BY_REQUEST,
    f"/{_L}WarehouseService/GetReservation": BY_RESPONSE,
    f"/{_L}WarehouseService/ReleaseReservation": Rule(Kind.MERCHANT, owner=_RESERVATION),
    f"/{_L}WarehouseService/ConfirmReservation": Rule(Kind.MERCHANT, owner=_RESERVATION),
    f"/{_L}WarehouseService/GetOutboundOrder": BY_RESPONSE,
    f"/{_L}WarehouseService/UpdateOutboundOrder": Rule(
        Kind.OPS, partner=PartnerOwned("outbound_order.warehouse_code", WAREHOUSE, via=_OUTBOUND)
    ),
    f"/{_L}WarehouseService/CancelOutboundOrder": Rule(Kind.MERCHANT, owner=_OUTBOUND),
    f"/{_L}WarehouseService/RegisterWarehouse": OPS,
    f"/{_L}WarehouseService/UpdateWarehouse": OPS,
    f"/{_L}WarehouseService/CreateInboundShipment": BY_REQUEST,
    f"/{_L}WarehouseService/GetInboundShipment": BY_RESPONSE,
    f"/{_L}WarehouseService/UpdateInboundShipment": Rule(
        Kind.OPS, partner=PartnerOwned("inbound_shipment.warehouse_code", WAREHOUSE, via=_INBOUND)
    ),
    # Customer service: a ticket belongs to its merchant.
    f"/{_T}CustomerService/OpenTicket": BY_REQUEST,
    f"/{_T}CustomerService/GetTicket": BY_RESPONSE,
    f"/{_T}CustomerService/ListTickets": BY_REQUEST,
    f"/{_T}CustomerService/ChangeTicketStatus": Rule(Kind.MERCHANT, owner=_TICKET),
    f"/{_T}CustomerService/AddTicketMessage": Rule(Kind.MERCHANT, owner=_TICKET),
    f"/{_T}CustomerService/UpdateTicket": Rule(Kind.MERCHANT, owner=_TICKET),
    f"/{_T}CustomerService/GetSlaMetrics": BY_REQUEST,
    f"/{_T}CustomerService/GetOdrCase": BY_RESPONSE,
    f"/{_T}CustomerService/AskBot": Rule(Kind.MERCHANT, owner=_TICKET),
    f"/{_T}CustomerService/GetBotConversation": BY_RESPONSE,
    f"/{_T}CustomerService/RateTicket": Rule(Kind.MERCHANT, owner=_TICKET),
    f"/{_T}CustomerService/ApplyMacro": Rule(Kind.MERCHANT, owner=_TICKET),
    f"/{_T}CustomerService/ListMacros": BY_REQUEST,
    # A merchant's key saves its own macros (an empty code becomes its own); an operator's key with no
    # merchant code saves a platform macro.
    f"/{_T}CustomerService/SaveMacro": Rule(Kind.MERCHANT, request_field="macro.merchant_code"),
    # ODR: operators escalate; providers (their certificate, or an operator key) report their cases' statuses.
    f"/{_T}CustomerService/EscalateToOdr": OPS,
    f"/{_T}CustomerService/RecordOdrStatus": Rule(Kind.OPS, partner=PartnerOwned("case.provider", ODR, via=_ODR_CASE)),
    # Operations staff watch every merchant's cases and push a stuck delivery (`xborder odr`).
    f"/{_T}CustomerService/ListOdrCases": OPS,
    f"/{_T}CustomerService/RetryOdrDelivery": OPS,
    # Identity.
    f"/{_I}IdentityService/OnboardMerchant": OPS,
    f"/{_I}IdentityService/GetMerchant": Rule(
        Kind.MERCHANT, MERCHANT_FIELD, allow_held=True, ops_only=("merchant.hold_decisions.decided_by",)
    ),
    f"/{_I}IdentityService/RotateApiKey": Rule(Kind.MERCHANT, MERCHANT_FIELD, step_up=True),
    # Revoking is always safe, so a held merchant (or an operator for it) may still revoke its keys.
    f"/{_I}IdentityService/RevokeApiKey": Rule(Kind.MERCHANT, MERCHANT_FIELD, allow_held=True, step_up=True),
    f"/{_I}IdentityService/IssueOperatorKey": Rule(Kind.OPS, step_up=True),
    # A compliance officer's decision on a held merchant: a person's, so only an ops session (whose id the
    # gateway fills in) with a fresh second factor; the merchant it names is held, which is the point.
    f"/{_I}IdentityService/DecideMerchantHold": Rule(
        Kind.OPS, MERCHANT_FIELD, allow_held=True, step_up=True, session_field=SESSION_FIELD
    ),
    # Cross-border transfer rules: ops edit the table and file legal bases (sensitive: an ops session steps
    # up first); a merchant reads its own bases.
    f"/{_I}TransferRuleService/GetTransferPolicy": OPS,
    f"/{_I}TransferRuleService/PublishTransferRules": Rule(Kind.OPS, step_up=True),
    f"/{_I}TransferRuleService/SetKillSwitch": Rule(Kind.OPS, step_up=True),
    f"/{_I}TransferRuleService/RegisterLegalBasis": Rule(Kind.OPS, request_field=MERCHANT_FIELD, step_up=True),
    f"/{_I}TransferRuleService/ListLegalBases": BY_REQUEST,
    f"/{_I}IdentityService/VerifyApiKey": INTERNAL,
    # OAuth2 clients belong to their merchant; tokens are issued by the gateway's POST /oauth/token.
    f"/{_I}AccessService/RegisterClient": Rule(Kind.MERCHANT, MERCHANT_FIELD, step_up=True),
    f"/{_I}AccessService/ListClients": BY_REQUEST,
    f"/{_I}AccessService/RevokeClient": Rule(Kind.MERCHANT, MERCHANT_FIELD, allow_held=True, step_up=True),
    f"/{_I}AccessService/IssueAccessToken": INTERNAL,
    # Ops staff: an admin's session manages operators; a session steps up and logs out only itself.
    f"/{_I}AccessService/AddOperator": Rule(Kind.OPS, step_up=True),
    f"/{_I}AccessService/DisableOperator": Rule(Kind.OPS, step_up=True),
    f"/{_I}AccessService/Login": SIGN_IN,
    f"/{_I}AccessService/LoginWithIdToken": SIGN_IN,
    f"/{_I}AccessService/LinkOperatorSso": Rule(Kind.OPS, step_up=True),
    f"/{_I}AccessService/StepUp": Rule(Kind.OPS, session_field=SESSION_FIELD),
    f"/{_I}AccessService/Logout": Rule(Kind.OPS, session_field=SESSION_FIELD),
    # Partners: operators onboard them and register their certificates; a partner reads its own registration.
    f"/{_I}PartnerService/OnboardPartner": OPS,
    f"/{_I}PartnerService/GetPartner": Rule(
        Kind.OPS,
        partner=PartnerOwned(PARTNER_FIELD, own_code=True),
        ops_only=("partner.hold_decisions.decided_by",),
    ),
    f"/{_I}PartnerService/AddPartnerCertificate": Rule(Kind.OPS, step_up=True),
    f"/{_I}PartnerService/RevokePartnerCertificate": Rule(Kind.OPS, step_up=True),
    f"/{_I}PartnerService/DecidePartnerHold": Rule(Kind.OPS, step_up=True, session_field=SESSION_FIELD),
    f"/{_I}PartnerService/VerifyPartnerCertificate": INTERNAL,
}


def rule_for(grpc_path: str) -> Rule:
    """The RPC's rule; an RPC missing from the table is served to operators only (fail closed)."""
    return RULES.get(grpc_path, OPS)


def public(rule: Rule) -> bool:
    """Whether the call needs no credential (reference data, signing in)."""
    return rule.kind in (Kind.PUBLIC, Kind.SIGN_IN)


@dataclass(frozen=True)
class PartnerFacts:
    """A calling partner: its code, kind, whether it is active, the names it owns (upper-case), its country."""

    code: str
    kind: str
    active: bool
    owns: frozenset[str]
    country: str = ""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a merchant's key or access token (merchant_code set), or an operator key or ops
    session (merchant_code None). `kind` is identity's principal_kind ("api_key", "oauth_client",
    "ops_session"); `step_up_until` (epoch seconds) an ops session's end of its step-up window."""

    key_id: str
    merchant_code: str | None
    scopes: frozenset[str]
    merchant_active: bool = True
    kind: str = "api_key"
    step_up_until: float | None = None
    partner: PartnerFacts | None = None
    """Set for a partner's certificate (kind "partner_certificate"; key_id its fingerprint)."""

    @property
    def is_session(self) -> bool:
        return self.kind == OPS_SESSION

    def stepped_up(self, now: float) -> bool:
        return not self.is_session or (self.step_up_until is not None and now < self.step_up_until)

    @property
    def is_operator(self) -> bool:
        return self.merchant_code is None and self.partner is None

    @property
    def is_partner(self) -> bool:
        return self.partner is not None


def admit(principal: Principal, rule: Rule, scope: str) -> None:
    """Scope and kind: PermissionDenied (403) when the caller may not call this RPC at all."""
    if rule.kind is Kind.INTERNAL:
        raise PermissionDenied("this method is internal to the platform and not served through the gateway")
    if principal.partner is not None:
        _admit_partner(principal.partner, rule)
    if scope not in principal.scopes:
        raise PermissionDenied(f"the API key lacks the scope {scope!r} this method requires")
    if rule.kind is Kind.OPS and not principal.is_operator and not principal.is_partner:
        raise PermissionDenied("this method is for platform operators; merchant keys may not call it")
    if not principal.is_operator and not principal.merchant_active and not rule.allow_held:
        raise MerchantHeld(f"merchant {principal.merchant_code} is held after onboarding screening")


def _admit_partner(partner: PartnerFacts, rule: Rule) -> None:
    if rule.partner_for(partner.kind) is None:
        raise PermissionDenied("this method is not open to partners of this kind")
    if not partner.active:
        raise PermissionDenied(f"partner {partner.code} is held after onboarding screening")


def _own_name(value: str) -> str:
    return " ".join(value.split()).upper()


def bind_partner(principal: Principal, rule: Rule, request: Message) -> None:
    """A partner's request touches only its own: another's carrier, warehouse or code is a 404.

    Empty values are left to the service, whose 400 names the field, unless the rule requires the field.
    Checks on a read's answer (`via`) are made by `check_partner_answer` once the gateway has asked the read.
    """
    partner = principal.partner
    owned = rule.partner_for(partner.kind) if partner is not None else None
    if partner is None or owned is None or owned.via is not None:
        return
    for holder, field in _holders(request, owned.field):
        value = _own_name(getattr(holder, field.name))
        if owned.required and not value:
            raise ValidationError.single(field.name, "is required when a partner calls: one of its own")
        if owned.own_code:
            if not value:
                setattr(holder, field.name, partner.code)
            elif value != partner.code:
                raise NotFound(f"no partner {value}", field=field.name)
        elif value and value not in partner.owns:
            raise NotFound(f"not found: {value}", field=field.name)


def partner_lookup(principal: Principal, rule: Rule, request: Message, read_input: type[Message]) -> Message | None:
    """The read that tells whose resource a partner's call touches (`via`), or None when none is needed."""
    owned = partner_via(principal, rule)
    if owned is None or owned.via is None:
        return None
    return owner_request(Rule(rule.kind, owner=owned.via), request, read_input)


def partner_via(principal: Principal, rule: Rule) -> PartnerOwned | None:
    """The calling partner's rule when it is checked on a read's answer (`via`); None otherwise."""
    owned = rule.partner_for(principal.partner.kind) if principal.partner is not None else None
    return owned if owned is not None and owned.via is not None else None


def check_partner_answer(principal: Principal, rule: Rule, answer: Message) -> None:
    """The read's answer must name one of the partner's own (e.g. the ODR case's provider); else a 404."""
    partner, owned = principal.partner, partner_via(principal, rule)
    if partner is None or owned is None:
        return
    names = {_own_name(getattr(holder, field.name)) for holder, field in _holders(answer, owned.field)}
    if not names or not names <= partner.owns:
        raise NotFound("not found")  # naming the resource's partner would leak it


def require_step_up(principal: Principal, rule: Rule, now: float) -> None:
    """StepUpRequired (403) for an ops session whose last TOTP code is older than the step-up window."""
    if rule.step_up and not principal.stepped_up(now):
        raise StepUpRequired(
            "this call needs a recent second factor: POST /v1/operators/sessions:step-up with a fresh TOTP code"
        )


def bind_session(principal: Principal, rule: Rule, request: Message) -> None:
    """Fill the request's session field with the caller's own session; only an ops session may call."""
    if rule.session_field is None:
        return
    if not principal.is_session:
        raise PermissionDenied("only an ops session (xborder operators login) may call this method")
    setattr(request, rule.session_field, principal.key_id)


def not_found(code: str) -> NotFound:
    return NotFound(f"no merchant {code}", field=MERCHANT_FIELD)


def _holders(message: Message, dotted: str) -> Iterator[tuple[Message, Any]]:
    """(message, field) for each place a dotted path reaches, through repeated message fields."""
    head, _, rest = dotted.partition(".")
    field = message.DESCRIPTOR.fields_by_name[head]
    if not rest:
        yield message, field
        return
    values = getattr(message, head)
    for child in values if field.is_repeated else [values]:
        yield from _holders(child, rest)


def bind_request(principal: Principal, rule: Rule, request: Message) -> set[str]:
    """Fill or check the request's merchant codes; the codes the call names (to check they are active).

    A merchant caller's empty code becomes its own; another code is a 404 (NotFound), as for a code that
    does not exist. A malformed code (no merchant can have it) is left to the service, whose 400 names the
    field.
    """
    if rule.request_field is None:
        return set()
    named: set[str] = set()
    for holder, field in _holders(request, rule.request_field):
        value = getattr(holder, field.name).strip().upper()
        if value and codes.problems(value) is not None:
            continue
        if principal.merchant_code is not None:
            if not value:
                setattr(holder, field.name, principal.merchant_code)
                value = principal.merchant_code
            elif value != principal.merchant_code:
                raise not_found(value)
        if value:
            named.add(value)
    return named


def owner_request(rule: Rule, request: Message, read_input: type[Message]) -> Message | None:
    """The read request that finds the owner of what a write touches, or None when the rule has no owner.

    None too for a malformed code: no resource can have it, and the service's 400 then names the caller's
    field (the read's own field may be named differently, `code` for the call's `shipment_code`).
    """
    if rule.owner is None:
        return None
    value = getattr(request, rule.owner.from_field)
    if codes.problems(value.strip().upper()) is not None:
        return None
    lookup = read_input()
    setattr(lookup, rule.owner.field, value)
    return lookup


def merchant_codes(message: Message) -> Iterator[str]:
    """Every non-empty merchant_code in a message, at any depth."""
    for field, value in message.ListFields():
        if field.name == MERCHANT_FIELD and field.type == FieldDescriptor.TYPE_STRING:
            if value:
                yield value
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            for child in value if field.is_repeated else [value]:
                yield from merchant_codes(child)


def hide_ops_only(principal: Principal, rule: Rule, reply: Message) -> None:
    """Clear the answer's `ops_only` fields unless an operator or ops session is calling."""
    if principal.is_operator:
        return
    for path in rule.ops_only:
        for holder, field in _holders(reply, path):
            holder.ClearField(field.name)


def screen_response(principal: Principal, reply: Message) -> None:
    """Drop another merchant's entries from lists; another merchant's resource is a 404."""
    own = principal.merchant_code
    if own is None:
        return
    for field, value in reply.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            if field.name == MERCHANT_FIELD and value and value != own:
                raise NotFound("not found")  # naming the resource's merchant would leak it
            continue
        if field.is_repeated:
            kept = [child for child in value if all(code == own for code in merchant_codes(child))]
            if len(kept) != len(value):
                del value[:]
                value.extend(kept)
        else:
            screen_response(principal, value)
