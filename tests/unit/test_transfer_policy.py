"""The transfer decisions (gateway/transfer_policy.py, gateway/transfer_guard.py) as properties.

- a kill switch always wins: any transfer of a killed class, or to a killed destination, is BLOCK whatever
  the rules and the legal bases on file;
- a block never lets a field through: an answer carrying a class whose verdict is BLOCK is refused whole;
- masking never leaks the clear value: after masking, no value of a masked class is left anywhere in the
  answer (serialised bytes or JSON).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from xborder.compliance.v1 import screening_service_pb2 as screening_pb
from xborder.identity.v1 import identity_service_pb2 as identity_pb

from gateway.descriptors import discover
from gateway.transfer_guard import Parties, TransferGuard, TransferSettings
from gateway.transfer_policy import (
    Action,
    Basis,
    Policy,
    PolicyRule,
    Recorded,
    Why,
    bases_for,
    classes_sent,
    decide,
    mask,
    people,
    reachable_classes,
)
from services.shared.errors import TransferBasisMissing, TransferBlocked, TransferRefused

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ("PUBLIC", "BUSINESS", "PERSONAL", "PERSONAL_SENSITIVE", "IMPORTANT", "CORE")
ACTIONS = ("ALLOW", "MASK", "REQUIRE_BASIS", "BLOCK")
KINDS = ("CONSENT", "STANDARD_CONTRACT", "CERTIFICATION", "SECURITY_ASSESSMENT", "CONTRACT_NECESSITY")
COUNTRIES = ("CN", "DE", "FR", "US", "JP", "GB", "BR")
GROUPS = {"EEA": frozenset({"DE", "FR"}), "EU_ADEQUATE": frozenset({"JP", "GB"})}
PLACES = (*COUNTRIES, *GROUPS, "*")


def seed_policy() -> Policy:
    """The shipped seed (data/transfer_rules/v1.yaml) as the gateway reads it."""
    document = yaml.safe_load((ROOT / "data/transfer_rules/v1.yaml").read_text())
    rules = tuple(
        PolicyRule(
            r["rule_id"],
            r["origin"],
            r["data_class"],
            r["destination"],
            r["action"],
            frozenset(r.get("any_of") or ()),
            frozenset(r.get("all_of") or ()),
            r.get("otherwise") or "BLOCK",
            int(r.get("min_persons") or 0),
        )
        for r in document["rules"]
    )
    return Policy(1, 1, rules, {g["name"]: frozenset(g["countries"]) for g in document["groups"]})


rules_st = st.lists(
    st.builds(
        PolicyRule,
        rule_id=st.from_regex(r"R-[A-Z]{3}", fullmatch=True),
        origin=st.sampled_from(("CN", "EEA", "US")),
        data_class=st.sampled_from(CLASSES),
        destination=st.sampled_from(PLACES),
        action=st.sampled_from(ACTIONS),
        any_of=st.frozensets(st.sampled_from(KINDS), max_size=2),
        all_of=st.frozensets(st.sampled_from(KINDS), max_size=1),
        otherwise=st.sampled_from(("MASK", "BLOCK")),
        min_persons=st.sampled_from((0, 0, 10_000, 100_000)),
    ).filter(lambda r: r.action != "REQUIRE_BASIS" or r.any_of or r.all_of),  # as publishing requires
    max_size=12,
)
held_st = st.dictionaries(st.sampled_from(KINDS), st.just(["LB1"]), max_size=5)


@settings(max_examples=200, deadline=None)
@given(
    rules=rules_st,
    origin=st.sampled_from(COUNTRIES),
    destination=st.sampled_from(COUNTRIES),
    data_class=st.sampled_from(CLASSES),
    persons=st.integers(0, 2_000_000),
    held=held_st,
    kill_class=st.booleans(),
)
def test_a_kill_switch_always_wins(
    rules: list[PolicyRule],
    origin: str,
    destination: str,
    data_class: str,
    persons: int,
    held: dict[str, list[str]],
    kill_class: bool,
) -> None:
    killed = (
        {"killed_classes": frozenset({data_class})} if kill_class else {"killed_destinations": frozenset({destination})}
    )
    policy = Policy(3, 9, tuple(rules), GROUPS, **killed)
    verdict = decide(policy, origin, destination, data_class, persons, held)
    if policy.domestic(origin, destination):
        assert verdict.why is Why.DOMESTIC  # not a transfer: the switches govern transfers
    else:
        assert verdict.action is Action.BLOCK
        assert verdict.why in (Why.KILL_SWITCH_CLASS, Why.KILL_SWITCH_DESTINATION)


@settings(max_examples=150, deadline=None)
@given(
    rules=rules_st,
    origin=st.sampled_from(COUNTRIES),
    destination=st.sampled_from(COUNTRIES),
    data_class=st.sampled_from(CLASSES),
    persons=st.integers(0, 2_000_000),
    held=held_st,
)
def test_a_verdict_is_explained_and_bases_only_ever_loosen_a_rule(
    rules: list[PolicyRule], origin: str, destination: str, data_class: str, persons: int, held: dict[str, list[str]]
) -> None:
    policy = Policy(2, 5, tuple(rules), GROUPS)
    with_bases = decide(policy, origin, destination, data_class, persons, held)
    without = decide(policy, origin, destination, data_class, persons, {})
    severity = {Action.ALLOW: 0, Action.MASK: 1, Action.BLOCK: 2}
    assert severity[with_bases.action] <= severity[without.action]
    if with_bases.rule_id:
        assert with_bases.version == 2
        assert Recorded.parse(with_bases.audit_text()).rule == f"{with_bases.rule_id}@v2"
    if with_bases.why is Why.BASIS_ON_FILE:
        assert with_bases.basis_ids == ("LB1",)


def _guard() -> TransferGuard:
    methods = {m.grpc_path: m for s in discover() for m in s.methods}
    return TransferGuard(None, methods, TransferSettings(), None)  # type: ignore[arg-type]


GET_MERCHANT = next(m for s in discover() for m in s.methods if m.name == "GetMerchant")
GET_SCREENING = next(m for s in discover() for m in s.methods if m.name == "GetScreening")
secret_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda t: "clear-" + t)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.tuples(secret_text, secret_text, secret_text), min_size=1, max_size=4))
def test_masking_never_leaks_the_clear_value(names: list[tuple[str, str, str]]) -> None:
    reply = identity_pb.GetMerchantResponse(
        merchant=identity_pb.Merchant(
            merchant_code="MC0000000000000001",
            legal_name="Alpha GmbH",
            country="DE",
            contacts=[identity_pb.Contact(name=n, email=e, phone=p, role="business") for n, e, p in names],
        )
    )
    policy = seed_policy()  # EEA -> CN personal data without SCCs: MASK
    outcome = _guard().apply(GET_MERCHANT, policy, [(Parties("MC0000000000000001", "DE", ("CN",)), ())], reply)
    assert "PERSONAL>CN:MASK:EU-PD-THIRD-COUNTRY@v1" in outcome.decisions
    wire, text = reply.SerializeToString(), json_format.MessageToJson(reply)
    for values in names:
        for value in values:
            assert value.encode() not in wire and value not in text
    assert reply.merchant.legal_name == "Alpha GmbH"  # business data untouched


@settings(max_examples=100, deadline=None)
@given(name=secret_text, held=st.sampled_from(((), ("STANDARD_CONTRACT",))))
def test_a_block_never_lets_a_field_through(name: str, held: tuple[str, ...]) -> None:
    reply = screening_pb.GetScreeningResponse(
        screening=screening_pb.Screening(
            code="SC0000000000000001",
            merchant_code="MC0000000000000001",
            party=screening_pb.ScreenedParty(name=name, date_of_birth="1980-**-**"),
        )
    )
    before = reply.SerializeToString()
    bases = tuple(Basis("LB1", k, "CN", date(2026, 1, 1), None) for k in held)
    parties = Parties("MC0000000000000001", "DE", ("CN",))
    if held:  # SCCs on file: personal data goes, in clear
        outcome = _guard().apply(GET_SCREENING, seed_policy(), [(parties, bases)], reply)
        assert any(d.startswith("PERSONAL>CN:ALLOW:EU-PD-THIRD-COUNTRY@v1:LB1") for d in outcome.decisions)
        return
    killed = dataclasses.replace(seed_policy(), killed_destinations=frozenset({"CN"}))
    with pytest.raises(TransferBlocked) as refused:
        _guard().apply(GET_SCREENING, killed, [(parties, bases)], reply)
    assert name not in str(refused.value) and name not in repr(refused.value.metadata)
    assert reply.SerializeToString() == before  # refused whole: nothing was half-masked to be sent


def test_a_masked_date_of_birth_is_decided_as_personal_data() -> None:
    reply = screening_pb.GetScreeningResponse(
        screening=screening_pb.Screening(party=screening_pb.ScreenedParty(name="x", date_of_birth="1980-**-**"))
    )
    assert classes_sent(reply) == frozenset({"PERSONAL"})


def test_the_seed_encodes_the_cac_thresholds() -> None:
    policy = seed_policy()
    cn_pi = [decide(policy, "CN", "US", "PERSONAL", n, {}) for n in (0, 99_999, 100_000, 1_000_000)]
    assert [(v.action, v.rule_id) for v in cn_pi] == [
        (Action.ALLOW, "CN-PI-UNDER-100K"),
        (Action.ALLOW, "CN-PI-UNDER-100K"),
        (Action.BLOCK, "CN-PI-100K-PERSONS"),
        (Action.BLOCK, "CN-PI-1M-PERSONS"),
    ]
    scc = {"STANDARD_CONTRACT": ["LB1"]}
    assert decide(policy, "CN", "US", "PERSONAL", 150_000, scc).action is Action.ALLOW
    assert decide(policy, "CN", "US", "PERSONAL", 1_500_000, scc).action is Action.BLOCK  # needs an assessment
    spi = decide(policy, "CN", "US", "PERSONAL_SENSITIVE", 10, scc)
    assert (spi.action, spi.needs) == (Action.MASK, ("CONSENT",))  # separate consent as well
    assert decide(policy, "CN", "US", "PERSONAL_SENSITIVE", 10, {**scc, "CONSENT": ["LB2"]}).action is Action.ALLOW
    assert decide(policy, "CN", "US", "CORE", 0, scc).action is Action.BLOCK
    assert decide(policy, "CN", "HK", "IMPORTANT", 0, {"SECURITY_ASSESSMENT": ["A1"]}).action is Action.ALLOW
    assert decide(policy, "DE", "FR", "PERSONAL_SENSITIVE", 0, {}).why is Why.DOMESTIC  # both EEA
    assert decide(policy, "DE", "JP", "PERSONAL", 0, {}).rule_id == "EU-PD-ADEQUATE"
    assert decide(policy, "US", "CN", "PERSONAL", 0, {}).why is Why.UNGOVERNED_ORIGIN


def test_bases_hold_only_in_their_period_and_for_their_destination() -> None:
    policy = seed_policy()
    bases = [
        Basis("A", "CONSENT", "EEA", date(2026, 1, 1), date(2026, 12, 31)),
        Basis("B", "STANDARD_CONTRACT", "*", date(2027, 1, 1), None),
        Basis("C", "CERTIFICATION", "US", date(2020, 1, 1), None),
    ]
    assert bases_for(bases, policy, "FR", date(2026, 6, 1)) == {"CONSENT": ["A"]}
    assert bases_for(bases, policy, "US", date(2026, 6, 1)) == {"CERTIFICATION": ["C"]}
    assert bases_for(bases, policy, "FR", date(2027, 6, 1)) == {"STANDARD_CONTRACT": ["B"]}


def test_people_are_identified_per_message_node_and_classes_are_read_from_the_descriptors() -> None:
    reply = identity_pb.GetMerchantResponse(
        merchant=identity_pb.Merchant(
            contacts=[identity_pb.Contact(name="A", email="a@x"), identity_pb.Contact(name="B", email="b@x")]
        )
    )
    assert len(people(reply, frozenset({"PERSONAL"}))["PERSONAL"]) == 2
    assert {"PERSONAL", "BUSINESS"} <= reachable_classes(GET_MERCHANT.descriptor.output_type)
    assert mask(reply, frozenset({"BUSINESS"})) == 0  # contacts' roles unset: nothing of the class to mask


def test_refusals_name_the_rule() -> None:
    assert issubclass(TransferBlocked, TransferRefused) and issubclass(TransferBasisMissing, TransferRefused)
