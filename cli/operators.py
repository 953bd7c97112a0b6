"""`xborder operators`: ops staff (password + TOTP second factor), their logins and step-up.

The commands call the identity service's use cases in this process, on its database, as ops tooling: the
first admin is added here, later ones also by an admin's session over REST (`POST /v1/operators`, with a
fresh second factor). A password is read from stdin (`--password-stdin`) or prompted for, never taken
as an argument (it would stay in the shell history). The TOTP enrolment URI is printed once: add it to an
authenticator app (most read it as a QR code; `qrencode -t ansiutf8 '<uri>'` draws one in a terminal).

With single sign-on configured (XB_OIDC_*), `link-sso` ties an operator to an identity of the company's
identity provider and `sso-login` exchanges that provider's ID token for a session. The ID token is read
from a file (or `-` for stdin), never taken as an argument: it is a credential until it expires.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from google.protobuf.message import Message
from rich.console import Console
from xborder.identity.v1 import access_service_pb2 as apb

from cli.context import call_in_process
from services.shared.context import ServiceContext

console = Console()
operators_app = typer.Typer(
    help="Ops staff: add, log in (password + TOTP, or single sign-on), step up, disable.", no_args_is_help=True
)

ROLES = {
    "viewer": apb.OPERATOR_ROLE_VIEWER,
    "agent": apb.OPERATOR_ROLE_AGENT,
    "compliance_officer": apb.OPERATOR_ROLE_COMPLIANCE_OFFICER,
    "finance": apb.OPERATOR_ROLE_FINANCE,
    "admin": apb.OPERATOR_ROLE_ADMIN,
}

M = TypeVar("M", bound=Message)


def _call(method: Callable[[Any], M]) -> M:
    return call_in_process("identity", lambda context: method(_servicer(context)))


def _servicer(context: ServiceContext) -> Any:
    from services.identity.bootstrap import access_servicer  # here, so `xborder --help` does not load the service

    return access_servicer(context)


def _password(from_stdin: bool, confirm: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))


@operators_app.command("add")
def add(
    login: str = typer.Option(..., "--login", help="Login name (lower case, 3-64 characters)."),
    name: str = typer.Option(..., "--name", help="The person's name."),
    role: str = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    as_json: bool = typer.Option(False, "--json", help='Print {"login": ..., "totpUri": ...}.'),
) -> None:
    """Add a member of the ops staff and print the TOTP enrolment URI (shown only this once)."""
    if role not in ROLES:
        console.print(f"[red]role:[/red] must be one of {', '.join(ROLES)}", highlight=False)
        raise typer.Exit(2)
    request = apb.AddOperatorRequest(
        request_id=f"cli-{uuid.uuid4()}",
        login=login,
        display_name=name,
        role=ROLES[role],
        password=_password(password_stdin, confirm=True),
    )
    answer = _call(lambda servicer: servicer.AddOperator(request, None))
    if as_json:
        print(json.dumps({"login": answer.operator.login, "role": role, "totpUri": answer.totp_uri}))
        return
    console.print(f"operator {answer.operator.login} ({role}) added")
    console.print(f"TOTP enrolment (shown once): {answer.totp_uri}", highlight=False, soft_wrap=True)


@operators_app.command("login")
def login(
    login_name: str = typer.Option(..., "--login", help="Login name."),
    totp: str = typer.Option(..., "--totp", help="The current 6-digit code of your authenticator app."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    as_json: bool = typer.Option(False, "--json", help='Print {"sessionToken": ..., "expiresAt": ...}.'),
) -> None:
    """Log in with password and TOTP code; print a session token for Authorization: Bearer."""
    request = apb.LoginRequest(login=login_name, password=_password(password_stdin, confirm=False), totp_code=totp)
    answer = _call(lambda servicer: servicer.Login(request, None))
    expires, step_up = answer.expires_at.ToJsonString(), answer.step_up_until.ToJsonString()
    if as_json:
        print(json.dumps({"sessionToken": answer.session_token, "expiresAt": expires, "stepUpUntil": step_up}))
        return
    console.print(f"session token (until {expires}): {answer.session_token}", highlight=False, soft_wrap=True)
    console.print(f"sensitive calls allowed until {step_up}; then: xborder operators step-up")


@operators_app.command("sso-login")
def sso_login(
    id_token_file: str = typer.Option(
        ..., "--id-token-file", help="File holding the identity provider's ID token ('-': stdin)."
    ),
    nonce: str = typer.Option("", "--nonce", help="The nonce sent in the authentication request, if any."),
    as_json: bool = typer.Option(False, "--json", help='Print {"sessionToken": ..., "expiresAt": ...}.'),
) -> None:
    """Sign in with an ID token of the company's identity provider; print a session token."""
    from_stdin = id_token_file == "-"  # noqa: S105 (the stdin marker, not a secret)
    raw = sys.stdin.read() if from_stdin else Path(id_token_file).read_text(encoding="utf-8")
    request = apb.LoginWithIdTokenRequest(id_token=raw.strip(), nonce=nonce)
    answer = _call(lambda servicer: servicer.LoginWithIdToken(request, None))
    expires = answer.expires_at.ToJsonString()
    step_up = answer.step_up_until.ToJsonString() if answer.HasField("step_up_until") else None
    if as_json:
        print(
            json.dumps(
                {
                    "sessionToken": answer.session_token,
                    "expiresAt": expires,
                    "stepUpUntil": step_up,
                    "multiFactor": answer.multi_factor,
                }
            )
        )
        return
    console.print(f"session token (until {expires}): {answer.session_token}", highlight=False, soft_wrap=True)
    if step_up is None:
        console.print("no second factor from the identity provider: xborder operators step-up before sensitive calls")
    else:
        console.print(f"sensitive calls allowed until {step_up}; then: xborder operators step-up")


@operators_app.command("link-sso")
def link_sso(
    login_name: str = typer.Argument(..., help="Login name."),
    email: str = typer.Option("", "--email", help="The identity provider's verified email of the person."),
    subject: str = typer.Option("", "--subject", help="The identity provider's subject identifier (sub or oid)."),
) -> None:
    """Link an operator to an identity of the identity provider (both empty: unlink)."""
    request = apb.LinkOperatorSsoRequest(
        request_id=f"cli-{uuid.uuid4()}", login=login_name, email=email, subject=subject
    )
    answer = _call(lambda servicer: servicer.LinkOperatorSso(request, None))
    o = answer.operator
    console.print(f"operator {o.login}: email {o.sso_email or '-'}, subject {o.sso_subject or '-'}", highlight=False)


@operators_app.command("step-up")
def step_up(
    session_token: str = typer.Option(..., "--session", envvar="XB_SESSION_TOKEN", help="Your session token."),
    totp: str = typer.Option(..., "--totp", help="A fresh 6-digit code of your authenticator app."),
) -> None:
    """Check a fresh TOTP code on your session: sensitive calls are allowed again for the step-up window."""
    session_id = session_token.removeprefix("xbo_sess_").split("_", 1)[0]
    answer = _call(lambda servicer: servicer.StepUp(apb.StepUpRequest(session_id=session_id, totp_code=totp), None))
    console.print(f"sensitive calls allowed until {answer.step_up_until.ToJsonString()}")


@operators_app.command("disable")
def disable(login_name: str = typer.Argument(..., help="Login name.")) -> None:
    """Disable a member of the ops staff: no new login, and every session of theirs ends."""
    request = apb.DisableOperatorRequest(request_id=f"cli-{uuid.uuid4()}", login=login_name)
    answer = _call(lambda servicer: servicer.DisableOperator(request, None))
    console.print(f"operator {answer.operator.login} disabled at {answer.operator.disabled_at.ToJsonString()}")
