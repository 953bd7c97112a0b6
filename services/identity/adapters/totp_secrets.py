"""TOTP secrets at rest: under the envelope encryption the bank-account vault uses (services/shared/crypto).

A TOTP secret must be read back in clear to check a code, so it cannot be hashed like a password; it is
sealed with a fresh data key wrapped by the ring's newest KEK, bound to the operator's login and the field,
so a ciphertext copied to another operator's row does not open there.
"""

from __future__ import annotations

from services.shared.crypto import Binding, EnvelopeCipher


class EnvelopeTotpSecrets:
    def __init__(self, cipher: EnvelopeCipher) -> None:
        self.cipher = cipher

    @staticmethod
    def _binding(login: str) -> Binding:
        return Binding("platform", "operator", login, "totp_secret", "PERSONAL_SENSITIVE")

    def seal(self, login: str, secret: str) -> str:
        return self.cipher.encrypt_text(secret, self._binding(login))

    def open(self, login: str, stored: str) -> str:
        return self.cipher.decrypt_text(stored, self._binding(login))
