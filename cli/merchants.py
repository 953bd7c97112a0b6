"""`xborder merchants`: onboard a merchant, release or reject a held one, rotate or revoke its keys, issue
operator keys.

The commands call the identity service's use cases in this process, on its database. Onboarding screens
the merchant through compliance's ScreeningService over gRPC, so the platform must be running (`xborder
up`, or the compliance service at XB_COMPLIANCE_HOST:XB_COMPLIANCE_PORT). A key's secret is printed once.
`release` and `reject` are a compliance officer's decision (cli/holds.py).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from xborder.identity.v1 import identity_service_pb2 as pb

from cli.context import call_in_process
from cli.holds import Held, add_hold_commands
from services.shared.context import ServiceContext
from services.shared.errors import Unavailable

console = Console()
merchants_app = typer.Typer(help="Merchants and their API keys.", no_args_is_help=True)
keys_app = typer.Typer(help="A merchant's API keys.", no_args_is_help=True)
merchants_app.add_typer(keys_app, name="keys")

DEMO_CREDENTIALS = "demo-credentials.json"
DEMO_NAME = "Demo Cross-Border Trading (Shenzhen) Co., Ltd."
DEMO_USCC = "91440300MA5DXB0T0W"  # synthetic, with a valid GB 32100 check character

M = TypeVar("M", bound=Message)


def _call(method: Callable[[ServiceContext], M]) -> M:
    return call_in_process("identity", method)


def _servicer(context: ServiceContext) -> Any:
    from services.identity.bootstrap import servicer  # here, so `xborder --help` does not load the service

    return servicer(context)


def _json(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message)


@merchants_app.command("onboard")
def onboard(
    name: str = typer.Option(..., "--name", help="The registered legal name."),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2 country of incorporation."),
    uscc: str = typer.Option("", "--uscc", help="Unified social credit code (required for CN)."),
    currency: str = typer.Option("", "--currency", help="Settlement currency (default CNY for CN, else USD)."),
    scope: list[str] = typer.Option([], "--scope", help="Scopes of the first key (default: every merchant scope)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"merchantCode": ..., "apiKey": ...}.'),
) -> None:
    """Register and screen a merchant and print its code and first API key (shown only this once)."""
    request = pb.OnboardMerchantRequest(
        request_id=f"cli-{uuid.uuid4()}",
        legal_name=name,
        country=country,
        uscc=uscc,
        settlement_currency=currency,
        scopes=scope,
    )
    answer = _call(lambda context: _servicer(context).OnboardMerchant(request, None))
    status = pb.MerchantStatus.Name(answer.merchant.status).removeprefix("MERCHANT_STATUS_")
    if as_json:
        print(json.dumps({"merchantCode": answer.merchant.merchant_code, "apiKey": answer.secret, "status": status}))
        return
    console.print(f"merchant {answer.merchant.merchant_code} ({status}), screening {answer.merchant.screening_code}")
    console.print(f"API key (shown once): {answer.secret}", highlight=False, soft_wrap=True)


add_hold_commands(
    merchants_app,
    Held(
        noun="merchant",
        code_help="The held merchant's code (MC...).",
        release_help=(
            "Release a merchant its screening held (REVIEW or BLOCKED): it becomes ACTIVE and its keys work again."
        ),
        reject_help=(
            "Confirm a hold: the merchant becomes REJECTED, for good (a corrected registration is onboarded anew)."
        ),
        servicer=_servicer,
        request=pb.DecideMerchantHoldRequest,
        method="DecideMerchantHold",
        status=lambda merchant: pb.MerchantStatus.Name(merchant.status).removeprefix("MERCHANT_STATUS_"),
    ),
)


@keys_app.command("rotate")
def rotate(
    merchant_code: str = typer.Argument(..., help="The merchant's code (MC...)."),
    key_id: str = typer.Argument(..., help="The key id (the 16 hex digits after xbk_live_)."),
    overlap_seconds: int = typer.Option(86400, help="How long the old key keeps working (at most 7 days)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Issue a new key with the same scopes; the old key works until the overlap ends."""
    request = pb.RotateApiKeyRequest(
        request_id=f"cli-{uuid.uuid4()}", merchant_code=merchant_code, key_id=key_id, overlap_seconds=overlap_seconds
    )
    answer = _call(lambda context: _servicer(context).RotateApiKey(request, None))
    if as_json:
        print(json.dumps({"apiKey": answer.secret, "keyId": answer.api_key.key_id, "previous": _json(answer.previous)}))
        return
    console.print(f"API key (shown once): {answer.secret}", highlight=False, soft_wrap=True)
    console.print(f"key {key_id} works until {answer.previous.expires_at.ToJsonString()}")


@keys_app.command("revoke")
def revoke(
    merchant_code: str = typer.Argument(..., help="The merchant's code (MC...)."),
    key_id: str = typer.Argument(..., help="The key id."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Stop a key at once (the gateway's cache forgets it within 5 seconds)."""
    request = pb.RevokeApiKeyRequest(request_id=f"cli-{uuid.uuid4()}", merchant_code=merchant_code, key_id=key_id)
    answer = _call(lambda context: _servicer(context).RevokeApiKey(request, None))
    if as_json:
        print(json.dumps(_json(answer.api_key)))
        return
    console.print(f"key {key_id} revoked at {answer.api_key.revoked_at.ToJsonString()}")


@merchants_app.command("operator-key")
def operator_key(
    label: str = typer.Option(..., "--label", help="Who or what the key is for."),
    scope: list[str] = typer.Option([], "--scope", help="Scopes (default: every operator scope)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Issue a platform operator key (not bound to a merchant)."""
    request = pb.IssueOperatorKeyRequest(request_id=f"cli-{uuid.uuid4()}", label=label, scopes=scope)
    answer = _call(lambda context: _servicer(context).IssueOperatorKey(request, None))
    if as_json:
        print(json.dumps({"apiKey": answer.secret, "keyId": answer.api_key.key_id}))
        return
    console.print(f"operator key (shown once): {answer.secret}", highlight=False, soft_wrap=True)


def demo_credentials_when_ready(
    context: ServiceContext,
    var_dir: Path,
    *,
    attempts: int = 8,
    wait: Callable[[float], None] = time.sleep,
    onboard: Callable[[ServiceContext, Path], tuple[Path, dict[str, str] | None]] | None = None,
) -> tuple[Path, dict[str, str] | None]:
    """`demo_credentials`, asked again while screening is unavailable: on a first start the sanctions index
    may still be building on a busy machine, and onboarding is screened. A refused attempt stores nothing
    (the request id is the same each time), so retrying cannot onboard twice; the last refusal is raised."""
    onboard = onboard or demo_credentials
    for attempt in range(attempts):
        try:
            return onboard(context, var_dir)
        except Unavailable:
            if attempt == attempts - 1:
                raise
            wait(min(2.0**attempt, 10.0))
    raise AssertionError("unreachable")  # the loop returns or raises


def demo_credentials(context: ServiceContext, var_dir: Path) -> tuple[Path, dict[str, str] | None]:
    """On a first start, onboard the demo merchant and an operator key and write them (mode 0600) to
    var/demo-credentials.json; (the file, what was written or None when it was already there)."""
    path = var_dir / DEMO_CREDENTIALS
    if path.exists():
        return path, None
    identity = _servicer(context)
    merchant = identity.OnboardMerchant(
        pb.OnboardMerchantRequest(
            request_id="demo-merchant", legal_name=DEMO_NAME, country="CN", uscc=DEMO_USCC, settlement_currency="CNY"
        ),
        None,
    )
    operator = identity.IssueOperatorKey(pb.IssueOperatorKeyRequest(request_id="demo-operator", label="demo"), None)
    if not merchant.secret or not operator.secret:
        raise RuntimeError(
            f"the demo keys were issued before and {path} is gone; their secrets are not stored: issue new ones "
            f"with `xborder merchants keys rotate {merchant.merchant.merchant_code} {merchant.api_key.key_id}` "
            "and `xborder merchants operator-key --label demo`"
        )
    written = {
        "merchantCode": merchant.merchant.merchant_code,
        "apiKey": merchant.secret,
        "keyId": merchant.api_key.key_id,
        "operatorKey": operator.secret,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(written, out, indent=2)
        out.write("\n")
    return path, written
