"""TransferRuleService servicer: validate each request once, call the use case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import json_format
from xborder.identity.v1 import transfer_rules_service_pb2 as pb
from xborder.identity.v1 import transfer_rules_service_pb2_grpc as pb_grpc

from services.identity.domain import transfer_rules as tr
from services.identity.service_layer import transfer_handlers as handlers
from services.shared import request_fields
from services.shared.clock import utcnow
from services.shared.errors import Violations

MAX_NAME_CHARS = 200


def _who(value: str, field: str, violations: Violations) -> str:
    who = " ".join(value.split())
    if not who or len(who) > MAX_NAME_CHARS:
        violations.add(field, f"is required (who makes the change), at most {MAX_NAME_CHARS} characters")
    return who


def _reason(value: str, violations: Violations) -> str:
    reason = " ".join(value.split())
    if not reason or len(reason) > tr.MAX_TEXT:
        violations.add("reason", f"is required (why the change is made), at most {tr.MAX_TEXT} characters")
    return reason


def _plain(message: Any) -> dict[str, Any]:
    """A rule or group as the domain's checker reads it (enum prefixes dropped)."""
    body = json_format.MessageToDict(message, preserving_proto_field_name=True)
    for key in ("action", "otherwise"):
        if key in body:
            body[key] = str(body[key]).removeprefix("TRANSFER_ACTION_")
    for key in ("any_of", "all_of"):
        body[key] = [str(b).removeprefix("LEGAL_BASIS_KIND_") for b in body.get(key, [])]
    if "data_class" in body:
        body["data_class"] = str(body["data_class"]).removeprefix("DATA_CLASS_")
    return body


class TransferRuleServicer(pb_grpc.TransferRuleServiceServicer):
    def __init__(self, uow_factory: handlers.UowFactory, seed: Callable[[], tr.Draft | None]) -> None:
        self.uow_factory = uow_factory
        self.seed = seed

    def GetTransferPolicy(
        self, request: pb.GetTransferPolicyRequest, context: grpc.ServicerContext
    ) -> pb.GetTransferPolicyResponse:
        return handlers.get_policy(self.uow_factory, self.seed, request.version)

    def PublishTransferRules(
        self, request: pb.PublishTransferRulesRequest, context: grpc.ServicerContext
    ) -> pb.PublishTransferRulesResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        by = _who(request.published_by, "published_by", violations)
        reason = _reason(request.reason, violations)
        draft = tr.check_table([_plain(r) for r in request.rules], [_plain(g) for g in request.groups], violations)
        violations.raise_if_any()
        return handlers.publish_rules(self.uow_factory, request, draft, by, reason)

    def SetKillSwitch(
        self, request: pb.SetKillSwitchRequest, context: grpc.ServicerContext
    ) -> pb.SetKillSwitchResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        target, value = tr.check_kill_switch(request.target, request.value, violations)
        by = _who(request.changed_by, "changed_by", violations)
        reason = _reason(request.reason, violations)
        violations.raise_if_any()
        assert target is not None
        return handlers.set_kill_switch(self.uow_factory, request, target, value, by, reason, self.seed)

    def RegisterLegalBasis(
        self, request: pb.RegisterLegalBasisRequest, context: grpc.ServicerContext
    ) -> pb.RegisterLegalBasisResponse:
        violations = Violations()
        request_fields.request_id(request.request_id, violations)
        code = request_fields.merchant_code(request.merchant_code, violations)
        kind_name = pb.LegalBasisKind.Name(request.kind).removeprefix("LEGAL_BASIS_KIND_")
        kind = None
        if kind_name == "UNSPECIFIED":
            violations.add("kind", f"is required: one of {', '.join(k.name for k in tr.BasisKind)}")
        else:
            kind = tr.BasisKind[kind_name]
        reference = " ".join(request.reference.split())
        if not reference or len(reference) > MAX_NAME_CHARS:
            violations.add("reference", f"is required (the document's id), at most {MAX_NAME_CHARS} characters")
        destination = tr.check_destination(request.destination, violations)
        start, end = tr.check_validity(
            request.valid_from or utcnow().date().isoformat(), request.valid_until, violations
        )
        by = _who(request.registered_by, "registered_by", violations)
        violations.raise_if_any()
        assert kind is not None
        draft = tr.LegalBasis("", code, kind, reference, destination, start, end, by, utcnow())
        return handlers.register_basis(self.uow_factory, request, draft)

    def ListLegalBases(
        self, request: pb.ListLegalBasesRequest, context: grpc.ServicerContext
    ) -> pb.ListLegalBasesResponse:
        violations = Violations()
        code = request_fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        return handlers.list_bases(self.uow_factory, code)
