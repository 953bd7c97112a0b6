"""The transfer-rule RPCs of the identity service on real gRPC and its database (SQLite and PostgreSQL).

Version 1 is seeded from data/transfer_rules/v1.yaml on first read; a publication is a new version and the
old one stays readable; a kill switch is logged and shows in the policy; legal bases are filed per merchant.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from xborder.identity.v1 import identity_service_pb2 as ipb
from xborder.identity.v1 import identity_service_pb2_grpc as ipb_grpc
from xborder.identity.v1 import transfer_rules_service_pb2 as pb
from xborder.identity.v1 import transfer_rules_service_pb2_grpc as pb_grpc

from services.identity import bootstrap
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.entrypoints.grpc_api import IdentityServicer
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.integration.test_identity_grpc import FakeScreener
from tests.servers import rejected


@dataclass
class Running:
    rules: pb_grpc.TransferRuleServiceStub
    identity: ipb_grpc.IdentityServiceStub


@pytest.fixture
def running(any_settings: Settings) -> Iterator[Running]:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    identity = IdentityServicer(context.uow, FakeScreener(), Argon2Hasher())  # type: ignore[arg-type]
    transfers = bootstrap.transfer_servicer(context)

    def add(server: grpc.Server) -> None:
        ipb_grpc.add_IdentityServiceServicer_to_server(identity, server)
        pb_grpc.add_TransferRuleServiceServicer_to_server(transfers, server)

    server = serve(any_settings, [add], bootstrap.GRPC_SERVICES, port=0)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Running(pb_grpc.TransferRuleServiceStub(channel), ipb_grpc.IdentityServiceStub(channel))
    server.stop(0)
    context.close()


def rid() -> str:
    return str(uuid.uuid4())


def test_the_seed_is_version_1_and_every_rule_cites_a_source_read_on_a_date(running: Running) -> None:
    policy = running.rules.GetTransferPolicy(pb.GetTransferPolicyRequest(), timeout=10).policy
    assert policy.version == 1 and policy.published_by == "seed"
    assert {r.rule_id for r in policy.rules} >= {"CN-PI-100K-PERSONS", "CN-SPI-10K-PERSONS", "EU-PD-THIRD-COUNTRY"}
    assert all(r.source and r.source_read_on == "2026-12-06" for r in policy.rules)
    assert "JP" in next(g for g in policy.groups if g.name == "EU_ADEQUATE").countries
    assert running.rules.GetTransferPolicy(pb.GetTransferPolicyRequest(), timeout=10).policy.version == 1


def test_a_publication_is_a_new_version_and_the_old_one_stays(running: Running) -> None:
    first = running.rules.GetTransferPolicy(pb.GetTransferPolicyRequest(), timeout=10).policy
    rules = [r for r in first.rules if r.rule_id != "CN-CORE-BLOCK"]
    request = pb.PublishTransferRulesRequest(
        request_id=rid(), rules=rules, groups=first.groups, published_by="Li Wei", reason="drop a rule"
    )
    second = running.rules.PublishTransferRules(request, timeout=10).policy
    assert (second.version, second.published_by, second.reason) == (2, "Li Wei", "drop a rule")
    assert running.rules.PublishTransferRules(request, timeout=10).policy.version == 2  # replayed, not published twice
    old = running.rules.GetTransferPolicy(pb.GetTransferPolicyRequest(version=1), timeout=10).policy
    assert "CN-CORE-BLOCK" in {r.rule_id for r in old.rules}
    assert second.revision > first.revision


def test_a_bad_table_names_every_field(running: Running) -> None:
    bad = pb.TransferRule(
        rule_id="x", origin="MARS", destination="EEA", action=pb.TRANSFER_ACTION_REQUIRE_BASIS, source_read_on="soon"
    )
    with pytest.raises(grpc.RpcError) as caught:
        running.rules.PublishTransferRules(
            pb.PublishTransferRulesRequest(request_id=rid(), rules=[bad], published_by="", reason=""), timeout=10
        )
    code, reason, fields = rejected(caught.value)
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    for field in ("rules[0].rule_id", "rules[0].origin", "rules[0].source", "rules[0].source_read_on", "published_by"):
        assert field in fields


def test_kill_switches_engage_and_release(running: Running) -> None:
    def switch(engaged: bool) -> pb.TransferPolicy:
        return running.rules.SetKillSwitch(
            pb.SetKillSwitchRequest(
                request_id=rid(), target="destination", value="us", engaged=engaged, changed_by="ops", reason="breach"
            ),
            timeout=10,
        ).policy

    on = switch(True)
    assert [(k.target, k.value, k.engaged_by) for k in on.kill_switches] == [("destination", "US", "ops")]
    assert switch(False).kill_switches == []


def test_legal_bases_are_filed_per_merchant(running: Running) -> None:
    merchant = running.identity.OnboardMerchant(
        ipb.OnboardMerchantRequest(request_id=rid(), legal_name="Alpha GmbH", country="DE"), timeout=10
    ).merchant.merchant_code
    filed = running.rules.RegisterLegalBasis(
        pb.RegisterLegalBasisRequest(
            request_id=rid(),
            merchant_code=merchant,
            kind=pb.LEGAL_BASIS_KIND_STANDARD_CONTRACT,
            reference="SCC-2021/914-0042",
            destination="CN",
            valid_from="2026-01-01",
            registered_by="compliance officer",
        ),
        timeout=10,
    ).legal_basis
    assert filed.basis_id.startswith("LB") and filed.destination == "CN"
    listed = running.rules.ListLegalBases(pb.ListLegalBasesRequest(merchant_code=merchant), timeout=10).legal_bases
    assert [b.reference for b in listed] == ["SCC-2021/914-0042"]
    with pytest.raises(grpc.RpcError) as caught:
        running.rules.ListLegalBases(pb.ListLegalBasesRequest(merchant_code="MC" + "0" * 16), timeout=10)
    assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
