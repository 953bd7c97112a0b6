"""Domain -> proto for the transfer-rule answers (the handlers' remembered answers are protos)."""

from __future__ import annotations

from xborder.common.v1 import options_pb2
from xborder.identity.v1 import transfer_rules_service_pb2 as pb

from services.identity.domain.transfer_rules import KillSwitchChange, LegalBasis, Rule, RuleTable
from services.identity.service_layer.mapping import timestamp


def data_class_to_proto(name: str) -> int:
    return int(options_pb2.DataClass.Value(f"DATA_CLASS_{name}"))


def rule_to_proto(rule: Rule) -> pb.TransferRule:
    return pb.TransferRule(
        rule_id=rule.rule_id,
        origin=rule.origin,
        data_class=data_class_to_proto(rule.data_class),  # type: ignore[arg-type]
        destination=rule.destination,
        action=f"TRANSFER_ACTION_{rule.action.value}",
        any_of=[f"LEGAL_BASIS_KIND_{b.value}" for b in rule.any_of],
        all_of=[f"LEGAL_BASIS_KIND_{b.value}" for b in rule.all_of],
        otherwise=f"TRANSFER_ACTION_{rule.otherwise.value}",
        min_persons=rule.min_persons,
        source=rule.source,
        source_read_on=rule.source_read_on,
        uncertain=rule.uncertain,
    )


def policy_to_proto(table: RuleTable, switches: list[KillSwitchChange], revision: int) -> pb.TransferPolicy:
    return pb.TransferPolicy(
        version=table.version,
        rules=[rule_to_proto(r) for r in table.rules],
        groups=[
            pb.DestinationGroup(
                name=g.name,
                countries=list(g.countries),
                source=g.source,
                source_read_on=g.source_read_on,
                uncertain=g.uncertain,
            )
            for g in table.groups
        ],
        kill_switches=[
            pb.KillSwitch(
                target=s.target.value,
                value=s.value,
                reason=s.reason,
                engaged_by=s.changed_by,
                engaged_at=timestamp(s.changed_at),
            )
            for s in switches
        ],
        published_by=table.published_by,
        published_at=timestamp(table.published_at),
        reason=table.reason,
        revision=revision,
    )


def basis_to_proto(basis: LegalBasis) -> pb.LegalBasis:
    return pb.LegalBasis(
        basis_id=basis.basis_id,
        merchant_code=basis.merchant_code,
        kind=f"LEGAL_BASIS_KIND_{basis.kind.value}",
        reference=basis.reference,
        destination=basis.destination,
        valid_from=basis.valid_from.isoformat(),
        valid_until=basis.valid_until.isoformat() if basis.valid_until else "",
        registered_by=basis.registered_by,
        registered_at=timestamp(basis.registered_at),
    )
