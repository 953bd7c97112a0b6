"""What every `xborder` command module shares: the settings, and a service's context run in this process.

The command modules import this module, never cli.main or each other (an import-linter contract), so
`xborder` mounts them without an import cycle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
import typer
from rich.console import Console

from services.registry import bootstrap_module
from services.shared.bus import InProcessBus
from services.shared.context import ServiceContext
from services.shared.errors import ConfigurationError, ValidationError, XborderError
from services.shared.grpc_errors import status_details
from services.shared.process import make_bus
from services.shared.settings import Settings

console = Console()
T = TypeVar("T")


def settings() -> Settings:
    """The settings from XB_* variables; a malformed one ends the command with exit code 2, naming it."""
    try:
        return Settings.from_env()
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None


@contextlib.contextmanager
def service_context(name: str, *, publishes: bool = True) -> Iterator[ServiceContext]:
    """`name`'s context on the database the settings name, closed afterwards.

    With XB_BROKER_URL the events a command wrote are published before it ends; without one they wait in
    the outbox for a running platform's relay. A command that only reads (`publishes=False`) never
    connects to the broker.
    """
    current = settings()
    bus = make_bus(current) if current.broker_url and publishes else InProcessBus()
    context = bootstrap_module(name).bootstrap(current, bus)
    try:
        yield context
        if current.broker_url and publishes and not context.relay.drain(timeout=10):
            console.print(f"[yellow]{name}: events wait in the outbox (broker not confirming)")
    finally:
        context.close()
        bus.close()


def service_channel(service: str) -> grpc.Channel:
    """A channel to `service`'s gRPC server at the address the settings give (a running platform)."""
    return grpc.insecure_channel(settings().service_address(service))


def rpc_failure(error: grpc.RpcError, service: str) -> typer.Exit:
    """Print a failed call the way a person can act on it (the reason and each field at fault); the exit.

    An unreachable service is exit code 2, a refused request 1.
    """
    code = error.code()  # type: ignore[attr-defined]
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        console.print(f"[red]{service} service not reachable:[/red] {error.details()}", highlight=False)  # type: ignore[attr-defined]
        return typer.Exit(2)
    reason, violations, _ = status_details(error)
    console.print(f"[red]{reason or code.name}:[/red] {error.details()}", highlight=False)  # type: ignore[attr-defined]
    for field, description in violations:
        console.print(f"  {field}: {description}", markup=False, highlight=False)
    return typer.Exit(1)


@contextlib.contextmanager
def refusals_exit() -> Iterator[None]:
    """A use case's refusal as the command's exit: each bad field (exit 2), or the error's reason (exit 1)."""
    try:
        yield
    except ValidationError as invalid:
        for violation in invalid.violations or ():
            console.print(f"[red]{violation.field}:[/red] {violation.description}", highlight=False)
        if not invalid.violations:
            console.print(f"[red]refused:[/red] {invalid.message}", highlight=False)
        raise typer.Exit(2) from None
    except XborderError as error:
        console.print(f"[red]refused ({error.reason}):[/red] {error.message}", highlight=False)
        raise typer.Exit(1) from None


def call_in_process(service: str, method: Callable[[ServiceContext], T]) -> T:
    """`method` on the service's context, in this process (the ops tool's use cases), refusals as exits."""
    with service_context(service) as context, refusals_exit():
        return method(context)
