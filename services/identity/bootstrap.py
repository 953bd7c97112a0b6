"""Wiring for the identity service: the one place adapters meet handlers. Nothing runs at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import grpc
from xborder.identity.v1 import (
    access_service_pb2,
    access_service_pb2_grpc,
    identity_service_pb2,
    identity_service_pb2_grpc,
    partner_service_pb2,
    partner_service_pb2_grpc,
    transfer_rules_service_pb2,
    transfer_rules_service_pb2_grpc,
)

from services.identity.adapters.hashing import Argon2Hasher
from services.identity.adapters.oidc import IdTokenVerifier, key_source
from services.identity.adapters.screening import GrpcScreener
from services.identity.adapters.tables import metadata
from services.identity.adapters.tokens import JwtSigner, looks_like_jwt
from services.identity.adapters.totp import Totp
from services.identity.adapters.totp_secrets import EnvelopeTotpSecrets
from services.identity.domain.transfer_rules import Draft, check_table
from services.identity.entrypoints.access_api import AccessServicer
from services.identity.entrypoints.grpc_api import IdentityServicer
from services.identity.entrypoints.partners_api import PartnerServicer
from services.identity.entrypoints.transfer_rules_api import TransferRuleServicer
from services.identity.service_layer import access
from services.identity.service_layer.transfer_handlers import read_seed
from services.identity.service_layer.uow import IdentityUnitOfWork
from services.identity.settings import IdentitySettings
from services.shared.bus import EventBus
from services.shared.context import ServiceContext, build_context
from services.shared.errors import Unauthenticated, Violations
from services.shared.settings import Settings

NAME = "identity"
MIGRATIONS = Path(__file__).parent / "migrations"
GRPC_SERVICES = (
    identity_service_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name,
    access_service_pb2.DESCRIPTOR.services_by_name["AccessService"].full_name,
    transfer_rules_service_pb2.DESCRIPTOR.services_by_name["TransferRuleService"].full_name,
    partner_service_pb2.DESCRIPTOR.services_by_name["PartnerService"].full_name,
)
SEED_RULES = Path("transfer_rules") / "v1.yaml"


def bootstrap(settings: Settings, bus: EventBus) -> ServiceContext:
    return build_context(settings, NAME, metadata, MIGRATIONS, bus, uow_class=IdentityUnitOfWork)


def access_servicer(context: ServiceContext, own: IdentitySettings | None = None) -> AccessServicer:
    own = own or IdentitySettings.from_env()
    # The context's helper re-reads the ring file when it meets a newer KEK (after `xborder keys rotate`).
    box = EnvelopeTotpSecrets(context.field_crypto.cipher)
    sso = None
    if own.oidc is not None:
        sso = (IdTokenVerifier(own.oidc, key_source(own.oidc)), own.oidc.rules)
    return AccessServicer(context.uow, Argon2Hasher(), JwtSigner(own), Totp(), box, own, sso)  # type: ignore[arg-type]


def servicer(context: ServiceContext, own: IdentitySettings | None = None) -> IdentityServicer:
    """The servicer with its adapters; the CLI calls it in-process. Compliance's address is read per call."""
    own = own or IdentitySettings.from_env()
    screener = GrpcScreener(lambda: context.settings)
    hasher, signer = Argon2Hasher(), JwtSigner(own)

    def verifier(presented: str) -> identity_service_pb2.VerifyApiKeyResponse:
        return access.verify_credential(context.uow, hasher, signer, own, presented, looks_like_jwt)  # type: ignore[arg-type]

    window = timedelta(seconds=own.step_up_window_s)
    return IdentityServicer(context.uow, screener, hasher, verifier, window)  # type: ignore[arg-type]


def ops_session_id(context: ServiceContext, presented: str) -> str:
    """The session id of a presented ops session token, verified as the gateway verifies it (the ops tool's
    commands that a person decides act as that person's session); Unauthenticated when it is not one."""
    request = identity_service_pb2.VerifyApiKeyRequest(secret=presented)
    answer = servicer(context).VerifyApiKey(request, None)  # type: ignore[arg-type]
    if answer.principal_kind != "ops_session":
        raise Unauthenticated("give an ops session token (xborder operators login), not a key or an access token")
    return str(answer.api_key.key_id)


def seed_rules(settings: Settings) -> Callable[[], Draft | None]:
    """Version 1 of the transfer rules, read from data/transfer_rules/v1.yaml when first needed."""

    def load() -> Draft | None:
        path = settings.data_dir / SEED_RULES
        if not path.exists():
            return None
        rules, groups, _ = read_seed(path)
        violations = Violations()
        draft = check_table(rules, groups, violations)
        violations.raise_if_any()
        return draft

    return load


def transfer_servicer(context: ServiceContext) -> TransferRuleServicer:
    return TransferRuleServicer(context.uow, seed_rules(context.settings))  # type: ignore[arg-type]


def partner_servicer(context: ServiceContext, own: IdentitySettings | None = None) -> PartnerServicer:
    window = timedelta(seconds=(own or IdentitySettings.from_env()).step_up_window_s)
    return PartnerServicer(context.uow, GrpcScreener(lambda: context.settings), window)  # type: ignore[arg-type]


def registrations(context: ServiceContext) -> list:
    identity = servicer(context)
    access_api = access_servicer(context)
    transfers = transfer_servicer(context)
    partners_api = partner_servicer(context)

    def add(server: grpc.Server) -> None:
        identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(identity, server)
        access_service_pb2_grpc.add_AccessServiceServicer_to_server(access_api, server)
        transfer_rules_service_pb2_grpc.add_TransferRuleServiceServicer_to_server(transfers, server)
        partner_service_pb2_grpc.add_PartnerServiceServicer_to_server(partners_api, server)

    return [add]
