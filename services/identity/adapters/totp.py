"""RFC 6238 TOTP (pyotp): 6 digits, 30-second steps, HMAC-SHA-1, the parameters authenticator apps use.

`step_of` answers the time step of a matching code (one step of drift either way, RFC 6238 section 5.2)
so the caller can refuse a code of a step already used.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pyotp

ISSUER = "xborder"
DRIFT_STEPS = 1


class Totp:
    def new_secret(self) -> str:
        return pyotp.random_base32()

    def uri(self, secret: str, login: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=ISSUER)

    def step_of(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step whose code `code` is, within the allowed drift; None when it matches none."""
        if not (len(code) == 6 and code.isdigit()):
            return None
        totp = pyotp.TOTP(secret)
        found = None
        for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
            at = now.timestamp() + offset * totp.interval
            # Every candidate is compared, so the time taken does not tell which one matched.
            if hmac.compare_digest(totp.at(int(at)), code):
                found = totp.timecode(datetime.fromtimestamp(at, UTC))
        return found

    def code_at(self, secret: str, now: datetime) -> str:
        """The code for `now` (tests and the demo use it; a person reads it from an authenticator app)."""
        return pyotp.TOTP(secret).at(now)
