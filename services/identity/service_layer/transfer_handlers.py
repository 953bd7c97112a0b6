"""Transfer-rule use cases: read the policy (seeding version 1 from the data file on first use), publish a
new version, engage or release a kill switch, file and list a merchant's legal bases."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from xborder.identity.v1 import transfer_rules_service_pb2 as pb

from services.identity.domain.transfer_rules import Draft, KillSwitchChange, KillTarget, LegalBasis, RuleTable, engaged
from services.identity.service_layer.transfer_mapping import basis_to_proto, policy_to_proto
from services.identity.service_layer.uow import IdentityUnitOfWork
from services.shared.clock import utcnow
from services.shared.errors import NotFound
from services.shared.idempotency import Request, fingerprint, run_idempotent

UowFactory = Callable[[], IdentityUnitOfWork]
SEED_AUTHOR = "seed"


def read_seed(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The rules, groups and reason of a rule file (data/transfer_rules/v1.yaml)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(document.get("rules") or []), list(document.get("groups") or []), str(document.get("reason") or "")


def _answer(uow: IdentityUnitOfWork, table: RuleTable) -> pb.TransferPolicy:
    return policy_to_proto(table, engaged(uow.transfer_rules.kill_switch_log()), uow.transfer_rules.revision())


def _publish(uow: IdentityUnitOfWork, draft: Draft, by: str, reason: str) -> RuleTable:
    latest = uow.transfer_rules.get()
    table = RuleTable(
        (latest.version if latest else 0) + 1, tuple(draft.rules), tuple(draft.groups), by, utcnow(), reason
    )
    uow.transfer_rules.add(table)
    return table


def get_policy(
    uow_factory: UowFactory, seed: Callable[[], Draft | None], version: int = 0
) -> pb.GetTransferPolicyResponse:
    return pb.GetTransferPolicyResponse(policy=_policy(uow_factory, seed, version))


def _policy(uow_factory: UowFactory, seed: Callable[[], Draft | None], version: int = 0) -> pb.TransferPolicy:
    with uow_factory() as uow:
        table = uow.transfer_rules.get(version or None)
        if table is not None:
            return _answer(uow, table)
    if version:
        raise NotFound(f"no transfer rule version {version}", field="version")
    draft = seed()
    if draft is None:
        raise NotFound("no transfer rules are published and no seed file is present", field="version")
    ask = Request("identity.transfer-rules.seed", "transfer-rules-seed-v1", "seed")

    def work(uow: IdentityUnitOfWork) -> pb.TransferPolicy:
        existing = uow.transfer_rules.get()
        table = existing or _publish(uow, draft, SEED_AUTHOR, "initial rule table from the seed file")
        return _answer(uow, table)

    run_idempotent(uow_factory, ask, pb.TransferPolicy, work)
    with uow_factory() as uow:
        latest = uow.transfer_rules.get()
        assert latest is not None
        return _answer(uow, latest)


def publish_rules(
    uow_factory: UowFactory, request: pb.PublishTransferRulesRequest, draft: Draft, by: str, reason: str
) -> pb.PublishTransferRulesResponse:
    ask = Request("identity.transfer-rules.publish", request.request_id, fingerprint(request))
    return run_idempotent(
        uow_factory,
        ask,
        pb.PublishTransferRulesResponse,
        lambda uow: pb.PublishTransferRulesResponse(policy=_answer(uow, _publish(uow, draft, by, reason))),
    )


def set_kill_switch(
    uow_factory: UowFactory,
    request: pb.SetKillSwitchRequest,
    target: KillTarget,
    value: str,
    by: str,
    reason: str,
    seed: Callable[[], Draft | None],
) -> pb.SetKillSwitchResponse:
    _policy(uow_factory, seed)  # a kill switch needs a table to apply over
    ask = Request("identity.transfer-rules.kill-switch", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> pb.SetKillSwitchResponse:
        uow.transfer_rules.add_kill_switch(KillSwitchChange(target, value, request.engaged, by, utcnow(), reason))
        table = uow.transfer_rules.get()
        assert table is not None
        return pb.SetKillSwitchResponse(policy=_answer(uow, table))

    return run_idempotent(uow_factory, ask, pb.SetKillSwitchResponse, work)


def register_basis(
    uow_factory: UowFactory, request: pb.RegisterLegalBasisRequest, draft: LegalBasis
) -> pb.RegisterLegalBasisResponse:
    ask = Request(f"identity.legal-basis:{draft.merchant_code}", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> pb.RegisterLegalBasisResponse:
        if uow.merchants.get(draft.merchant_code) is None:
            raise NotFound(f"no merchant {draft.merchant_code}", field="merchant_code")
        basis = LegalBasis(
            f"LB{secrets.token_hex(8).upper()}",
            draft.merchant_code,
            draft.kind,
            draft.reference,
            draft.destination,
            draft.valid_from,
            draft.valid_until,
            draft.registered_by,
            utcnow(),
        )
        uow.legal_bases.add(basis)
        return pb.RegisterLegalBasisResponse(legal_basis=basis_to_proto(basis))

    return run_idempotent(uow_factory, ask, pb.RegisterLegalBasisResponse, work)


def list_bases(uow_factory: UowFactory, merchant_code: str) -> pb.ListLegalBasesResponse:
    with uow_factory() as uow:
        if uow.merchants.get(merchant_code) is None:
            raise NotFound(f"no merchant {merchant_code}", field="merchant_code")
        bases = uow.legal_bases.of_merchant(merchant_code)
    return pb.ListLegalBasesResponse(legal_bases=[basis_to_proto(b) for b in bases])
