"""ScreeningGate over gRPC: `xborder.compliance.v1.ScreeningService/ScreenParty`.

The compliance screening proto lands from another branch, so this adapter does not import its generated
module at import time: it finds the request and response types by full name in a descriptor pool (the
default pool once `xborder.compliance.v1.screening_service_pb2` is importable) and fills them by field
name through JSON, so field numbers never matter. Contract used (names only):
  request  {request_id, merchant_code, name, party_type (PARTY_TYPE_PERSON/COMPANY), country}
  response.screening.decision  SCREENING_DECISION_CLEAR / _REVIEW / _BLOCK, response.screening.code
Any failure (proto missing, service unreachable, deadline, an unknown decision) raises
ScreeningUnavailable, which holds the payout: an unreachable compliance service never lets one through.
"""

from __future__ import annotations

import importlib
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor_pool import DescriptorPool

from services.payments.payouts.domain import Party, ScreeningDecision, ScreeningOutcome, ScreeningUnavailable
from services.shared.grpc_server import remaining_timeout

SERVICE = "xborder.compliance.v1.ScreeningService"
METHOD = "ScreenParty"
PROTO_MODULE = "xborder.compliance.v1.screening_service_pb2"
_DECISIONS = {f"SCREENING_DECISION_{d.value}": d for d in ScreeningDecision}


class GrpcScreeningGate:
    def __init__(
        self,
        channel: grpc.Channel,
        *,
        timeout_s: float = 3.0,
        pool: DescriptorPool | None = None,
        proto_module: str | None = PROTO_MODULE,
    ) -> None:
        self.channel = channel
        self.timeout_s = timeout_s
        self._pool = pool
        self._proto_module = proto_module
        self._call: Any = None
        self._types: tuple[type[Any], type[Any]] | None = None

    def _resolve(self) -> tuple[type[Any], type[Any]]:
        if self._types is None:
            if self._pool is None and self._proto_module:
                try:
                    importlib.import_module(self._proto_module)
                except ImportError as error:
                    raise ScreeningUnavailable(f"compliance screening contract not installed ({error})") from None
            pool = self._pool or descriptor_pool.Default()
            try:
                method = pool.FindServiceByName(SERVICE).FindMethodByName(METHOD)
            except KeyError:
                raise ScreeningUnavailable(f"{SERVICE} is not in the descriptor pool") from None
            if method is None:
                raise ScreeningUnavailable(f"{SERVICE} has no {METHOD}")
            request = message_factory.GetMessageClass(method.input_type)
            response = message_factory.GetMessageClass(method.output_type)
            self._types = (request, response)
            self._call = self.channel.unary_unary(
                f"/{SERVICE}/{METHOD}",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=response.FromString,
            )
        return self._types

    def screen(self, request_id: str, party: Party) -> ScreeningOutcome:
        request_type, _ = self._resolve()
        request = json_format.ParseDict(
            {
                "request_id": request_id,
                "merchant_code": party.merchant_code,
                "name": party.name,
                "party_type": f"PARTY_TYPE_{party.party_type}",
                "country": party.country,
            },
            request_type(),
        )
        try:
            response = self._call(request, timeout=remaining_timeout(self.timeout_s))
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            raise ScreeningUnavailable(f"ScreenParty failed: {getattr(code, 'name', code)}") from None
        data = json_format.MessageToDict(response, preserving_proto_field_name=True)
        screening = data.get("screening") or {}
        decision = _DECISIONS.get(str(screening.get("decision", "")))
        if decision is None:
            raise ScreeningUnavailable(f"unrecognised screening decision {screening.get('decision')!r}")
        return ScreeningOutcome(decision, str(screening.get("code", "")))
