"""Ops staff in tests: adding an operator as ops tooling does, its TOTP codes, and its sessions' calls."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import pyotp
from xborder.identity.v1 import access_service_pb2 as apb

if TYPE_CHECKING:
    from services.identity.entrypoints.access_api import AccessServicer
    from tests.e2e.stack import AsgiClient, Tenant

PASSWORD = "correct horse battery staple"


def add_operator(access: AccessServicer, login: str, role: apb.OperatorRole, display_name: str = "") -> str:
    """Add `login` through an AccessService servicer, in-process as the CLI does; its TOTP secret."""
    added = access.AddOperator(
        apb.AddOperatorRequest(
            request_id=f"add-{login}", login=login, display_name=display_name or login, role=role, password=PASSWORD
        ),
        None,  # type: ignore[arg-type]  # called in-process: the servicer does not use its context
    )
    return parse_qs(urlparse(added.totp_uri).query)["secret"][0]


_used: dict[str, int] = {}


def fresh_code(secret: str) -> str:
    """The code of a time step not used yet: the current one or the next (one step of drift is accepted),
    waiting for the next step when both are used (a TOTP code is accepted once)."""
    while True:
        now = time.time()
        current = int(now // 30)
        step = max(current, _used.get(secret, current - 1) + 1)
        if step <= current + 1:
            break
        time.sleep(30 - now % 30 + 0.2)
    _used[secret] = step
    return str(pyotp.TOTP(secret).at(step * 30))


def bearer(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def rotate_key(rest: AsgiClient, merchant: Tenant, token: str) -> Any:
    """Rotate the merchant's key over REST with `token`: a sensitive call (it needs a recent second factor)."""
    return rest.post(
        f"/v1/merchants/{merchant.merchant_code}/api-keys/{merchant.key_id}:rotate",
        json={"overlapSeconds": 60},
        headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
