"""Opaque page tokens (AIP-158 style): an offset bound to the search it came from.

The token is not a secret (a caller could craft any offset it could also reach by paging); the digest of
the search only makes a token from one search useless for another, so results never silently shift.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PagingProblem(ValueError):
    """Why a page size or token is unusable; the message completes "<field> ..."."""


def page_size(requested: int) -> int:
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= requested <= MAX_PAGE_SIZE:
        raise PagingProblem(f"must be between 1 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE}), got {requested}")
    return requested


def _digest(search_key: str) -> str:
    return hashlib.blake2b(search_key.encode("utf-8"), digest_size=8).hexdigest()


def encode_token(offset: int, search_key: str) -> str:
    body = json.dumps({"o": offset, "q": _digest(search_key)}, separators=(",", ":")).encode("ascii")
    return base64.urlsafe_b64encode(body).decode("ascii").rstrip("=")


def decode_token(token: str, search_key: str) -> int:
    """The offset a token points at; 0 for no token."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
        offset, digest = body["o"], body["q"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise PagingProblem("is not a page token returned by this search") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 or not isinstance(digest, str):
        raise PagingProblem("is not a page token returned by this search") from None
    if digest != _digest(search_key):
        raise PagingProblem("belongs to a different search (query or level changed); start again without it")
    return offset
