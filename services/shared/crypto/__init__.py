"""Envelope encryption and blind indexes for PERSONAL_SENSITIVE fields (docs/crypto.md)."""

from services.shared.crypto.binding import DATA_CLASSES, Binding
from services.shared.crypto.blind_index import BlindIndex, normalise_identifier
from services.shared.crypto.envelope import FORMAT_VERSION, Algorithm, Envelope, EnvelopeCipher
from services.shared.crypto.errors import DecryptionFailed, KeyRetired, KeyUnavailable
from services.shared.crypto.keyring import Kek, KeyRing

__all__ = [
    "DATA_CLASSES",
    "FORMAT_VERSION",
    "Algorithm",
    "Binding",
    "BlindIndex",
    "DecryptionFailed",
    "Envelope",
    "EnvelopeCipher",
    "Kek",
    "KeyRetired",
    "KeyRing",
    "KeyUnavailable",
    "normalise_identifier",
]
