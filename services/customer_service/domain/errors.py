"""Customer-service errors with stable reasons (protos/xborder/common/v1/errors.proto, the block from 70)."""

from __future__ import annotations

from services.shared.errors import FieldError, FieldViolation, ValidationError, XborderError


class IllegalTransition(XborderError):
    """A status change the state machine does not allow (domain.tickets.TRANSITIONS); names from and to."""

    reason = "ILLEGAL_TRANSITION"

    def __init__(self, from_status: str, to_status: str, *, field: str = "status") -> None:
        super().__init__(
            f"a ticket cannot go from {from_status} to {to_status}",
            metadata={"from": from_status, "to": to_status},
        )
        self.field = field

    @property
    def violations(self) -> tuple[FieldViolation, ...]:
        return (FieldViolation(self.field, self.message),)


class TicketClosed(XborderError):
    """The ticket is CLOSED or MERGED: it takes no more messages or changes."""

    reason = "TICKET_CLOSED"

    def __init__(self, code: str, status: str) -> None:
        super().__init__(f"ticket {code} is {status} and takes no more changes", metadata={"status": status})


class AttachmentTooLarge(ValidationError):
    """An attachment over the configured size limit (the field names which one)."""

    reason = "PAYLOAD_TOO_LARGE"


class BotInactive(XborderError):
    """The bot does not answer this ticket: not a bot conversation, or already handed off."""

    reason = "BOT_INACTIVE"

    def __init__(self, code: str, why: str) -> None:
        super().__init__(f"the bot does not answer ticket {code}: {why}", metadata={"why": why})


class LinkUnavailable(FieldError):
    """The service that owns a linked record cannot be asked whether it exists: nothing is stored, the caller
    retries (the field names the link)."""

    reason = "UNAVAILABLE"
