"""Domain -> proto for OAuth2 clients and ops staff."""

from __future__ import annotations

from xborder.identity.v1 import access_service_pb2 as apb

from services.identity.domain.clients import OAuthClient
from services.identity.domain.operators import Operator
from services.identity.domain.roles import Role
from services.identity.service_layer.mapping import timestamp

ROLE_TO_PROTO = {
    Role.VIEWER: apb.OPERATOR_ROLE_VIEWER,
    Role.AGENT: apb.OPERATOR_ROLE_AGENT,
    Role.COMPLIANCE_OFFICER: apb.OPERATOR_ROLE_COMPLIANCE_OFFICER,
    Role.FINANCE: apb.OPERATOR_ROLE_FINANCE,
    Role.ADMIN: apb.OPERATOR_ROLE_ADMIN,
}
ROLE_FROM_PROTO = {value: role for role, value in ROLE_TO_PROTO.items()}


def client_to_proto(client: OAuthClient) -> apb.OAuthClient:
    answer = apb.OAuthClient(
        client_id=client.client_id,
        merchant_code=client.merchant_code,
        label=client.label,
        scopes=list(client.scopes),
        created_at=timestamp(client.created_at),
    )
    if client.revoked_at is not None:
        answer.revoked_at.CopyFrom(timestamp(client.revoked_at))
    return answer


def operator_to_proto(operator: Operator) -> apb.Operator:
    answer = apb.Operator(
        login=operator.login,
        display_name=operator.display_name,
        role=ROLE_TO_PROTO[operator.role],
        created_at=timestamp(operator.created_at),
        sso_email=operator.sso_email or "",
        sso_subject=operator.sso_subject or "",
    )
    if operator.disabled_at is not None:
        answer.disabled_at.CopyFrom(timestamp(operator.disabled_at))
    return answer
