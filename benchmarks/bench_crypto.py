"""Envelope encryption cost: AES-256-GCM envelope (xborder) vs Fernet, and the blind index, in one run.

Measures, single-threaded, on a 1 KB plaintext:
  envelope   EnvelopeCipher.encrypt + decrypt (fresh data key, RFC 3394 wrap, AES-256-GCM, AAD binding)
  fernet     cryptography's Fernet encrypt + decrypt (AES-128-CBC + HMAC-SHA256, one key, no AAD): baseline
  aesgcm     bare AESGCM encrypt + decrypt with one fixed key (the floor: what the envelope adds over it)
  index      BlindIndex.compute on an IBAN (HKDF-derived key cached, HMAC-SHA256)
Prints microseconds per operation and the ratios. Reports only; never fails on a timing.

    .venv/bin/python benchmarks/bench_crypto.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import time
from collections.abc import Callable

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.shared.crypto import Binding, BlindIndex, EnvelopeCipher, KeyRing


def per_op_us(fn: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Best of 3 rounds, each running fn in batches until `seconds / 3` pass."""
    best = float("inf")
    total = 0
    for _ in range(3):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for _ in range(200):
                fn()
            n += 200
            now = time.perf_counter()
            if now >= deadline:
                break
        best = min(best, (now - start) / n * 1e6)
        total += n
    return best, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement (default 1 s)")
    args = parser.parse_args()

    plaintext = secrets.token_bytes(1024)
    binding = Binding("MC0000000000000001", "bank_account", "PY0000000000000001", "iban", "PERSONAL_SENSITIVE")
    ring = KeyRing.generate()
    cipher = EnvelopeCipher(ring)
    fernet = Fernet(Fernet.generate_key())
    gcm_key = AESGCM(AESGCM.generate_key(bit_length=256))
    index = BlindIndex(ring.index_key)
    aad = binding.canonical(1)

    def envelope() -> None:
        assert cipher.decrypt(cipher.encrypt(plaintext, binding), binding) == plaintext

    def fernet_round() -> None:
        assert fernet.decrypt(fernet.encrypt(plaintext)) == plaintext

    def aesgcm_round() -> None:
        nonce = os.urandom(12)
        assert gcm_key.decrypt(nonce, gcm_key.encrypt(nonce, plaintext, aad), aad) == plaintext

    def blind() -> None:
        index.compute("DE89370400440532013000", tenant="MC1", entity="bank_account", field="iban")

    results = {}
    for name, fn in (("envelope", envelope), ("fernet", fernet_round), ("aesgcm", aesgcm_round), ("index", blind)):
        results[name] = per_op_us(fn, args.seconds)

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpu(s); 1 KB plaintext")
    print(f"{'operation':<44} {'us/op':>9} {'ops/s':>11} {'runs':>9}")
    labels = {
        "envelope": "envelope encrypt+decrypt (xborder)",
        "fernet": "Fernet encrypt+decrypt (baseline)",
        "aesgcm": "bare AES-256-GCM encrypt+decrypt (floor)",
        "index": "blind index (HMAC-SHA256, cached HKDF key)",
    }
    for name, (us, runs) in results.items():
        print(f"{labels[name]:<44} {us:>9.2f} {1e6 / us:>11,.0f} {runs:>9,}")
    env_us, fer_us, gcm_us = results["envelope"][0], results["fernet"][0], results["aesgcm"][0]
    print(f"ratio Fernet / envelope: {fer_us / env_us:.2f}x (above 1: the envelope is faster)")
    print(f"ratio envelope / bare AES-GCM: {env_us / gcm_us:.2f}x (cost of the per-record key, wrap and header)")


if __name__ == "__main__":
    main()
