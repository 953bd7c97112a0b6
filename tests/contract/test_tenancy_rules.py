"""Every RPC has a tenancy rule, and the rules agree with the descriptors and the scopes keys may hold.

A new RPC that takes or returns a merchant code fails here until gateway/tenancy.py says who may call it
and for which merchant; a rule naming a field or an owner lookup that does not exist fails too.
"""

from __future__ import annotations

from gateway.descriptors import MethodInfo, discover, walk_fields
from gateway.tenancy import MERCHANT_FIELD, RULES, Kind
from services.identity.domain.scopes import MERCHANT_SCOPES, OPERATOR_SCOPES, PARTNER_SCOPES

METHODS: dict[str, MethodInfo] = {m.grpc_path: m for s in discover() for m in s.methods}


def merchant_paths(descriptor: object) -> set[str]:
    return {path for path, field in walk_fields(descriptor) if field.name == MERCHANT_FIELD}  # type: ignore[arg-type]


def test_every_rpc_that_takes_or_returns_a_merchant_code_has_a_rule() -> None:
    missing = [
        path
        for path, method in METHODS.items()
        if (merchant_paths(method.descriptor.input_type) or merchant_paths(method.descriptor.output_type))
        and path not in RULES
    ]
    assert missing == []


def test_every_scoped_rpc_has_a_rule_and_every_rule_an_rpc() -> None:
    scoped = {path for path, method in METHODS.items() if method.required_scope}
    assert scoped - set(RULES) == set()
    assert set(RULES) - set(METHODS) == set()


def test_public_rpcs_carry_no_merchant_data() -> None:
    for path, rule in RULES.items():
        if rule.kind is Kind.PUBLIC:
            method = METHODS[path]
            assert not merchant_paths(method.descriptor.input_type), path
            assert not merchant_paths(method.descriptor.output_type), path
            assert method.required_scope == "refdata.read", path


def test_a_merchant_rpc_taking_a_merchant_code_binds_every_one() -> None:
    for path, rule in RULES.items():
        if rule.kind is not Kind.MERCHANT:
            continue
        taken = merchant_paths(METHODS[path].descriptor.input_type)
        assert taken == ({rule.request_field} if rule.request_field else set()), path


def test_owner_lookups_name_real_fields_of_merchant_scoped_reads() -> None:
    for path, rule in RULES.items():
        if rule.owner is None:
            continue
        read = METHODS[rule.owner.rpc]
        assert rule.owner.field in read.descriptor.input_type.fields_by_name, path
        assert rule.owner.from_field in METHODS[path].descriptor.input_type.fields_by_name, path
        assert merchant_paths(read.descriptor.output_type), path
        assert RULES[rule.owner.rpc].kind is Kind.MERCHANT


def test_merchant_keys_may_hold_exactly_the_scopes_of_merchant_rpcs() -> None:
    merchant = {METHODS[p].required_scope for p, r in RULES.items() if r.kind is Kind.MERCHANT}
    assert merchant == MERCHANT_SCOPES


def test_operator_keys_may_hold_every_exposed_scope_but_internal_ones() -> None:
    exposed = {METHODS[p].required_scope for p, r in RULES.items() if r.kind in (Kind.MERCHANT, Kind.OPS)}
    never = {"identity.internal", "identity.operators.write", "identity.sessions.write", "identity.holds.decide"}
    assert exposed - never == OPERATOR_SCOPES


def test_a_hold_is_decided_only_by_an_ops_session_that_stepped_up() -> None:
    deciding = [p for p in RULES if METHODS[p].required_scope == "identity.holds.decide"]
    assert sorted(deciding) == [
        "/xborder.identity.v1.IdentityService/DecideMerchantHold",
        "/xborder.identity.v1.PartnerService/DecidePartnerHold",
    ]
    for path in deciding:
        rule = RULES[path]
        assert rule.kind is Kind.OPS and rule.step_up and rule.session_field == "session_id", path


def test_sign_in_rpcs_carry_no_merchant_data_and_need_no_credential() -> None:
    signing_in = [path for path, rule in RULES.items() if rule.kind is Kind.SIGN_IN]
    assert signing_in == [
        "/xborder.identity.v1.AccessService/Login",
        "/xborder.identity.v1.AccessService/LoginWithIdToken",
    ]
    for path in signing_in:
        assert not merchant_paths(METHODS[path].descriptor.input_type), path
        assert not merchant_paths(METHODS[path].descriptor.output_type), path


def test_session_fields_name_real_fields_of_ops_rpcs() -> None:
    for path, rule in RULES.items():
        if rule.session_field is not None:
            assert rule.kind is Kind.OPS, path
            assert rule.session_field in METHODS[path].descriptor.input_type.fields_by_name, path


def test_step_up_guards_keys_clients_and_operator_management() -> None:
    stepped = {path.rsplit("/", 1)[1] for path, rule in RULES.items() if rule.step_up}
    assert {
        "RotateApiKey",
        "RevokeApiKey",
        "IssueOperatorKey",
        "RegisterClient",
        "RevokeClient",
        "AddOperator",
        "DisableOperator",
        "LinkOperatorSso",
    } <= stepped


def _reaches(descriptor: object, dotted: str) -> bool:
    """Whether a dotted field path exists in a message type (through message fields)."""
    head, _, rest = dotted.partition(".")
    field = descriptor.fields_by_name.get(head)  # type: ignore[attr-defined]
    if field is None:
        return False
    if not rest:
        return field.type == field.TYPE_STRING
    return field.message_type is not None and _reaches(field.message_type, rest)


def test_ops_only_fields_name_real_fields_of_answers_a_merchant_or_partner_reads() -> None:
    hidden = {path: rule for path, rule in RULES.items() if rule.ops_only}
    assert "/xborder.identity.v1.IdentityService/GetMerchant" in hidden
    for path, rule in hidden.items():
        assert rule.kind is Kind.MERCHANT or rule.partner_rules(), path
        for dotted in rule.ops_only:
            assert _reaches(METHODS[path].descriptor.output_type, dotted), (path, dotted)


def test_partner_rules_name_real_fields_and_reads() -> None:
    for path, rule in RULES.items():
        kinds = [owned.kind for owned in rule.partner_rules()]
        assert len(set(kinds)) == len(kinds), path  # one rule per partner kind
        for owned in rule.partner_rules():
            # Partners' calls are otherwise operators' only, or reads any merchant may make (the catalogue).
            assert rule.kind is Kind.OPS or (rule.kind is Kind.MERCHANT and rule.request_field is None), path
            if owned.via is None:
                assert _reaches(METHODS[path].descriptor.input_type, owned.field), path
            else:
                read = METHODS[owned.via.rpc]
                assert owned.via.field in read.descriptor.input_type.fields_by_name, path
                assert owned.via.from_field in METHODS[path].descriptor.input_type.fields_by_name, path
                assert _reaches(read.descriptor.output_type, owned.field), path
            assert owned.kind is None or owned.kind in PARTNER_SCOPES, path


def test_partner_scopes_are_exactly_those_of_rpcs_open_to_the_partner_kind() -> None:
    for kind, scopes in PARTNER_SCOPES.items():
        open_to_kind = {METHODS[p].required_scope for p, r in RULES.items() if r.partner_for(kind) is not None}
        assert scopes == open_to_kind, kind
        assert scopes <= OPERATOR_SCOPES, kind
