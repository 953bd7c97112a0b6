"""FX errors a caller may see: a stale rate, an expired or already used quote (or value-added offer)."""

from __future__ import annotations

from services.shared.errors import XborderError


class RateStale(XborderError):
    """Every provider's rate for the pair is older than its limit: refused, never passed off as fresh."""

    reason = "RATE_STALE"


class QuoteExpired(XborderError):
    reason = "QUOTE_EXPIRED"


class QuoteUsed(XborderError):
    reason = "QUOTE_USED"
