"""argon2id hashes of API key secrets (argon2-cffi).

Parameters are OWASP's argon2id minimum (m = 19 MiB, t = 2, p = 1): the secrets are 256-bit random, so
the hash protects a stolen table rather than a weak password, and a verification stays in the low
milliseconds; the gateway caches verified keys so it is paid once per key per cache period.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# A hash to verify against when the key id is unknown, so an unknown id costs what a wrong secret costs.
_DUMMY = _HASHER.hash("not a key")


class Argon2Hasher:
    def hash(self, secret: str) -> str:
        return _HASHER.hash(secret)

    def verify(self, stored: str | None, secret: str) -> bool:
        try:
            return _HASHER.verify(stored or _DUMMY, secret) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
