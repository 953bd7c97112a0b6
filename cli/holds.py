"""`release` and `reject`: a compliance officer's decision on a held merchant or partner, one pair of commands
that `xborder merchants` and `xborder partners` each mount.

The commands act as the ops session given with `--session` (or XB_SESSION_TOKEN), which must be a
compliance officer's or an admin's, stepped up; the identity service checks both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from xborder.identity.v1 import identity_service_pb2 as ipb

from cli.context import call_in_process
from services.shared.context import ServiceContext

console = Console()


@dataclass(frozen=True)
class Held:
    """One kind of held entity, as its `release` and `reject` commands name and decide it."""

    noun: str
    """`merchant` or `partner`: the request's code field is `<noun>_code`, the answer's entity `<noun>`."""
    code_help: str
    release_help: str
    reject_help: str
    servicer: Callable[[ServiceContext], Any]
    """The identity servicer that decides (built in-process on the service's context)."""
    request: type[Message]
    """DecideMerchantHoldRequest or DecidePartnerHoldRequest."""
    method: str
    """The servicer's method: DecideMerchantHold or DecidePartnerHold."""
    status: Callable[[Any], str]
    """The entity's status, as printed (ACTIVE, REJECTED...)."""


_SESSION_HELP = "Your ops session token (stepped up)."
_REQUEST_ID_HELP = "Idempotency key: the same one again changes nothing."


def add_hold_commands(app: typer.Typer, held: Held) -> None:
    """Mount `release` and `reject` of `held` on `app`."""
    app.command("release", help=held.release_help)(_command(held, ipb.HOLD_DECISION_RELEASE))
    app.command("reject", help=held.reject_help)(_command(held, ipb.HOLD_DECISION_REJECT))


def _command(held: Held, decision: int) -> Callable[..., None]:
    def command(
        code: str = typer.Argument(..., metavar=f"{held.noun}_code", help=held.code_help),
        reason: str = typer.Option(
            ..., "--reason", help=f"Why (3-1000 characters; kept with the {held.noun} and shown with it)."
        ),
        session: str = typer.Option(..., "--session", envvar="XB_SESSION_TOKEN", help=_SESSION_HELP),
        request_id: str = typer.Option("", "--request-id", help=_REQUEST_ID_HELP),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        _decide(held, code, decision, reason, session, request_id, as_json)

    return command


def _decide(held: Held, code: str, decision: int, reason: str, session: str, request_id: str, as_json: bool) -> None:
    from services.identity.bootstrap import ops_session_id  # here, so `xborder --help` does not load the service

    def call(context: ServiceContext) -> Any:
        request = held.request(
            request_id=request_id or f"cli-{uuid.uuid4()}",
            decision=decision,
            reason=reason,
            session_id=ops_session_id(context, session),
            **{f"{held.noun}_code": code},
        )
        return getattr(getattr(held.servicer(context), held.method)(request, None), held.noun)

    entity = call_in_process("identity", call)
    if as_json:
        print(json.dumps(json_format.MessageToDict(entity), ensure_ascii=False))
        return
    last = entity.hold_decisions[-1]
    console.print(
        f"{held.noun} {getattr(entity, f'{held.noun}_code')} is {held.status(entity)} (was {last.previous_status}), "
        f"by {last.decided_by}",
        highlight=False,
        soft_wrap=True,
    )
