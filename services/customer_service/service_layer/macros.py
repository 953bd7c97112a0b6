"""Macros: save a named canned action (a merchant's, or the platform's), list what a merchant can apply,
and apply one to a ticket through the ticket use cases' own steps, in one transaction: priority and tags,
then the reply (which may open the ticket), then the status. Any step that is refused (a closed ticket, an
illegal transition) leaves the ticket as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from services.customer_service.adapters.blobs import BlobStore
from services.customer_service.domain import macros as domain
from services.customer_service.domain.errors import IllegalTransition
from services.customer_service.domain.macros import Macro
from services.customer_service.domain.sla import SlaBook
from services.customer_service.domain.tickets import TRANSITIONS, AuthorKind
from services.customer_service.service_layer.tickets import (
    M,
    Render,
    UowFactory,
    _load,
    _once,
    append_message,
    apply_update,
    record_change,
    view,
)
from services.customer_service.service_layer.unit_of_work import CustomerServiceUnitOfWork
from services.shared.clock import utcnow
from services.shared.errors import NotFound
from services.shared.idempotency import Request


@dataclass(frozen=True)
class SaveMacro:
    request: Request
    macro: Macro


@dataclass(frozen=True)
class ApplyMacro:
    request: Request
    code: str
    macro_name: str
    agent: str


def save_macro(
    uow_factory: UowFactory,
    command: SaveMacro,
    response_type: type[M],
    render: Callable[[Macro], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: CustomerServiceUnitOfWork) -> M:
        stored = uow.macros.get(command.macro.owner, command.macro.name)
        macro = replace(command.macro, version=1 if stored is None else stored.version + 1, updated_at=now())
        uow.macros.save(macro)
        return render(macro)

    return _once(uow_factory, command.request, response_type, work)


def visible_macros(uow_factory: UowFactory, merchant_code: str) -> list[Macro]:
    """The merchant's macros and the platform's, by name; a merchant's macro hides the platform's of its name."""
    with uow_factory() as uow:
        found = uow.macros.visible_to(merchant_code)
    by_name: dict[str, Macro] = {}
    for macro in found:
        by_name.setdefault(macro.name, macro)
    return [by_name[name] for name in sorted(by_name)]


def apply_macro(
    uow_factory: UowFactory,
    book: SlaBook,
    blobs: BlobStore,
    command: ApplyMacro,
    response_type: type[M],
    render: Render[M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: CustomerServiceUnitOfWork) -> M:
        at = now()
        ticket = _load(uow, command.code)
        macro = uow.macros.get(ticket.merchant_code, command.macro_name) or uow.macros.get(
            domain.PLATFORM, command.macro_name
        )
        if macro is None:
            raise NotFound(f"no macro {command.macro_name!r} for merchant {ticket.merchant_code}", field="macro_name")
        ticket = apply_update(uow, ticket, macro.priority, macro.add_tags, macro.remove_tags)
        if macro.reply:
            body = domain.render(macro.reply, ticket, command.agent)
            ticket = append_message(
                uow, blobs, ticket, AuthorKind.AGENT, command.agent, macro.reply_visibility, body, (), at
            )
        if macro.status is not None and macro.status is not ticket.status:
            if macro.status not in TRANSITIONS[ticket.status]:
                raise IllegalTransition(ticket.status.value, macro.status.value, field="macro_name")
            ticket = record_change(uow, ticket, macro.status, at, at, f"macro {macro.name}")
        return render(view(uow, book, ticket, at))

    return _once(uow_factory, command.request, response_type, work)
