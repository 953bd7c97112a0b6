"""Fuzzing of the parsers that read bytes a caller controls: the gateway's path matcher and the stored
envelope. Whatever the input, they answer or raise only their documented errors."""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import quote

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.transcoding import MethodNotAllowed, PathTemplate, RouteNotFound, Router, TemplateError
from services.shared.crypto import Binding, DecryptionFailed, Envelope, EnvelopeCipher, KeyRing, KeyUnavailable
from services.shared.crypto.envelope import TEXT_PREFIX

RING = KeyRing.generate("fuzz-kek")
CIPHER = EnvelopeCipher(RING)
HERE = Binding("MC1234", "bank_account", "BA0001", "iban", "PERSONAL_SENSITIVE")

_PATH_CHARS = st.sampled_from(list("abAZ09-._~!$&'()*+,;=:@/%{}?#\\ é\x00\n"))
raw_paths = st.text(_PATH_CHARS, max_size=80).map(lambda s: "/" + s) | st.text(max_size=80)
template_texts = st.text(st.sampled_from(list("ab/{}*=:.x_")), max_size=40).map(lambda s: "/" + s) | st.text(
    max_size=40
)


@settings(max_examples=400, deadline=None)
@given(template=template_texts)
@example("/v1/{name=**}:do")
@example("/v1/{a={b}}")
def test_template_parsing_raises_only_template_error(template: str) -> None:
    try:
        parsed = PathTemplate.parse(template)
    except TemplateError:
        return
    assert parsed.openapi_path.startswith("/")


_TEMPLATES = [
    PathTemplate.parse(t)
    for t in (
        "/v1/merchants/{merchant_code}",
        "/v1/merchants/{merchant_code}/tickets/{code}",
        "/v1/{name=warehouses/*/stock/**}",
        "/v1/quotes/{code}:convert",
        "/v1/hs-codes:search",
    )
]


@settings(max_examples=500, deadline=None)
@given(path=raw_paths)
@example("/v1/merchants/%ZZ")
@example("/v1/warehouses/a/stock/b%2Fc/d")
@example("/v1/quotes/%E9:convert")
def test_path_matching_never_raises(path: str) -> None:
    for template in _TEMPLATES:
        values = template.match(path)
        if values is not None:
            assert set(values) == {v.field_path for v in template.variables}
            assert all(isinstance(value, str) for value in values.values())


@settings(max_examples=300, deadline=None)
@given(code=st.text(max_size=30))
def test_a_matched_variable_decodes_to_what_was_encoded(code: str) -> None:
    values = _TEMPLATES[0].match("/v1/merchants/" + quote(code, safe=""))
    if code:
        assert values == {"merchant_code": code}
    else:
        assert values is None


@settings(max_examples=300, deadline=None)
@given(verb=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "get", "PUT"]), path=raw_paths)
def test_router_answers_a_route_or_404_or_405(verb: str, path: str) -> None:
    class _Route:  # the parts of a Route the router reads
        def __init__(self, template: PathTemplate, method: str) -> None:
            self.template, self.verb = template, method

    router = Router([_Route(t, "GET") for t in _TEMPLATES])  # type: ignore[misc]
    try:
        route, _ = router.resolve(verb, path)
    except (RouteNotFound, MethodNotAllowed):
        return
    assert route.verb == verb.upper()


@settings(max_examples=500, deadline=None)
@given(blob=st.binary(max_size=200))
@example(b"\x02\x01\x01k\x00\x00\x00\x01\x00\x28")
@example(b"\x02\x01\xff")
def test_parsing_any_bytes_is_an_envelope_or_decryption_failed(blob: bytes) -> None:
    try:
        envelope = Envelope.from_bytes(blob)
    except DecryptionFailed:
        return
    assert envelope.to_bytes() == blob


def _mutations() -> st.SearchStrategy[bytes]:
    genuine = CIPHER.encrypt(b"DE89370400440532013000", HERE)
    return st.tuples(st.integers(0, len(genuine) - 1), st.integers(0, 255), st.integers(0, len(genuine))).map(
        lambda t: (genuine[: t[0]] + bytes([t[1]]) + genuine[t[0] + 1 :])[: t[2]]
    )


@settings(max_examples=300, deadline=None)
@given(blob=_mutations() | st.binary(max_size=200))
def test_decrypting_tampered_or_random_bytes_fails_only_as_documented(blob: bytes) -> None:
    with contextlib.suppress(DecryptionFailed, KeyUnavailable):
        CIPHER.decrypt(blob, HERE)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120) | st.binary(max_size=120).map(lambda b: TEXT_PREFIX + base64.b64encode(b).decode()))
def test_decrypting_any_text_fails_only_as_documented(text: str) -> None:
    with contextlib.suppress(DecryptionFailed, KeyUnavailable):
        CIPHER.decrypt_text(text, HERE)
    with contextlib.suppress(DecryptionFailed):
        CIPHER.is_current(text)
