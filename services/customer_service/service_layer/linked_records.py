"""The port to the platform's other services (logistics, payments) for linked records, and the link check
every new ticket passes.

A link to a record that does not exist, or that belongs to another merchant, is refused as NOT_FOUND naming
the link (another merchant's code is "not found", so codes do not leak across tenants). When the owning
service cannot be asked, the ticket is refused as UNAVAILABLE naming the link and nothing is stored: a
ticket that silently carried an unchecked link would break the promise that links exist, and the caller
can retry with the same request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.customer_service.domain.errors import LinkUnavailable
from services.customer_service.domain.linked_records import CHECKED_KINDS, OWNING_SERVICE, Tracking
from services.customer_service.domain.tickets import Link, LinkKind
from services.shared.errors import NotFound, Unavailable


class LinkedRecords(Protocol):
    def owner(self, kind: LinkKind, code: str) -> str | None:
        """The merchant code that owns the record, None when its service has no such record; raises
        services.shared.errors.Unavailable when the service cannot be asked."""
        ...

    def tracking(self, shipment_code: str) -> Tracking | None:
        """The shipment's tracking, None when logistics has no such shipment; raises Unavailable."""
        ...


def check_links(records: LinkedRecords, merchant_code: str, links: Sequence[Link], field: str = "links") -> None:
    for i, link in enumerate(links):
        if link.kind not in CHECKED_KINDS:
            continue
        name = f"{field}[{i}].code"
        service = OWNING_SERVICE[link.kind]
        try:
            owner = records.owner(link.kind, link.code)
        except Unavailable:
            raise LinkUnavailable(
                f"{service} cannot be asked whether {link.kind.value.lower()} {link.code} exists right now; "
                "nothing was stored, retry later",
                field=name,
                metadata={"service": service},
            ) from None
        if owner != merchant_code:
            raise NotFound(f"no {link.kind.value.lower()} {link.code}", field=name)


def needs_check(links: Sequence[Link]) -> bool:
    return any(link.kind in CHECKED_KINDS for link in links)


TrackingFound = Tracking | str | None
"""A shipment's tracking, None when logistics has no such shipment of the merchant's, or why it is missing."""


def gather_tracking(records: LinkedRecords, merchant_code: str, links: Sequence[Link]) -> dict[str, TrackingFound]:
    """The tracking of every linked shipment, for the ODR case file. Logistics being down makes the evidence
    missing (said so in the case file), never the escalation fail: the dispute must not wait on a carrier."""
    found: dict[str, TrackingFound] = {}
    for link in links:
        if link.kind is not LinkKind.SHIPMENT:
            continue
        try:
            tracking = records.tracking(link.code)
        except Unavailable as error:
            found[link.code] = f"logistics could not be asked when the case file was made ({error.message})"
            continue
        found[link.code] = tracking if tracking is None or tracking.merchant_code == merchant_code else None
    return found
