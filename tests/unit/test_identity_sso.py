"""Single sign-on of ops staff: ID token verification against a JWKS file, and the sign-in use case.

The identity provider is tests/oidc_idp.py (a locally generated RSA and EC key in a JWKS file); the unit
of work is an in-memory fake. Every refusal must be the same 401, whatever was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt import PyJWKClient

from services.identity.adapters.oidc import IdTokenVerifier, JwksFile, JwksUrl
from services.identity.domain import sso
from services.identity.domain.operators import Operator, Session
from services.identity.domain.roles import Role
from services.identity.domain.sso import SSO_REFUSED, MapBy, SsoRules
from services.identity.service_layer import access
from services.identity.settings import IdentitySettings, OidcSettings
from services.shared.errors import ConfigurationError, ConflictingWrite, Unauthenticated, Unavailable
from tests.fakes import CopyingUnitOfWork
from tests.oidc_idp import Idp, public_jwk, rsa_key

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def idp(tmp_path: Path) -> Idp:
    return Idp(tmp_path / "jwks.json")


def oidc(idp: Idp, **more: str) -> OidcSettings:
    settings = IdentitySettings.from_env(idp.env(**more)).oidc
    assert settings is not None
    return settings


def verifier(idp: Idp, **more: str) -> IdTokenVerifier:
    settings = oidc(idp, **more)
    return IdTokenVerifier(settings, JwksFile(Path(settings.jwks)))


def refused(check: IdTokenVerifier, token: str, nonce: str = "") -> bool:
    try:
        check.verify(token, nonce, datetime.now(UTC))
    except Unauthenticated as error:
        assert str(error) == SSO_REFUSED  # one message, whatever was wrong
        return True
    return False


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key(idp: Idp) -> str:
    """The key-confusion attack: HS256 keyed with the IdP's public key, which anyone can read."""
    pem = idp.rsa.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    head = b64(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode())
    body = b64(json.dumps(idp.claims()).encode())
    signature = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def unsigned(idp: Idp) -> str:
    head = b64(json.dumps({"alg": "none", "kid": "rsa-1"}).encode())
    return f"{head}.{b64(json.dumps(idp.claims()).encode())}."


# --- verification ---


def test_a_valid_token_verifies_with_rsa_and_ec_keys(idp: Idp) -> None:
    check = verifier(idp)
    claims = check.verify(idp.token(), "", datetime.now(UTC))
    assert (claims.subject, claims.email, claims.email_verified) == ("00u-li-wei", "li.wei@example.com", True)
    assert claims.amr == ("pwd", "otp") and claims.auth_time is not None
    assert check.verify(idp.token(alg="ES256"), "", datetime.now(UTC)).subject == "00u-li-wei"


@pytest.mark.parametrize(
    "attack",
    [
        "wrong issuer",
        "wrong audience",
        "several audiences",
        "other azp",
        "expired",
        "not yet valid",
        "issued in the future",
        "issued too long ago",
        "no sub",
        "no exp",
        "wrong key",
        "unknown kid",
        "alg none",
        "HS256 with the public key",
        "algorithm not allowed",
        "alg of another key",
        "changed payload",
    ],
)
def test_forged_or_misdirected_tokens_are_refused(idp: Idp, attack: str) -> None:
    now = int(time.time())
    other = Idp(idp.jwks_path.with_name("other.json"))
    tokens = {
        "wrong issuer": lambda: idp.token(iss="https://evil.example.test"),
        "wrong audience": lambda: idp.token(aud="another-app"),
        "several audiences": lambda: idp.token(aud=[idp.client_id, "another-app"], azp=idp.client_id),
        "other azp": lambda: idp.token(azp="another-app"),
        "expired": lambda: idp.token(iat=now - 400, exp=now - 120),
        "not yet valid": lambda: idp.token(nbf=now + 600),
        "issued in the future": lambda: idp.token(iat=now + 600, exp=now + 900),
        "issued too long ago": lambda: idp.token(iat=now - 3600, exp=now + 600),
        "no sub": lambda: idp.token(sub=None),  # type: ignore[arg-type]
        "no exp": lambda: idp.token(exp=None),
        "wrong key": lambda: other.token(),  # same kid, another IdP's key
        "unknown kid": lambda: idp.token(kid="rotated-away"),
        "alg none": lambda: unsigned(idp),
        "HS256 with the public key": lambda: hs256_with_public_key(idp),
        "algorithm not allowed": lambda: jwt.encode(idp.claims(), idp.rsa, algorithm="PS256", headers={"kid": "rsa-1"}),
        "alg of another key": lambda: jwt.encode(idp.claims(), idp.ec, algorithm="ES256", headers={"kid": "rsa-1"}),
        "changed payload": lambda: tamper(idp.token()),
    }
    assert refused(verifier(idp), tokens[attack]())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_changed_character_of_an_id_token_is_refused(idp: Idp, data: st.DataObject) -> None:
    token = idp.token(jti="fixed")
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."))
    changed = token[:index] + replacement + token[index + 1 :]
    check = verifier(idp)
    if changed == token or not refused(check, changed):
        # base64url's last character may carry unused bits: a change there can decode to the same bytes.
        assert check.verify(changed, "", datetime.now(UTC)) == check.verify(token, "", datetime.now(UTC))


def tamper(token: str) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "00u-admin"
    return f"{head}.{b64(json.dumps(claims).encode())}.{signature}"


def test_clock_skew_admits_a_token_just_expired_and_no_more(idp: Idp) -> None:
    now = int(time.time())
    check = verifier(idp, clock_skew_s="60")
    assert not refused(check, idp.token(iat=now - 300, exp=now - 30))
    assert refused(check, idp.token(iat=now - 300, exp=now - 90))


def test_the_nonce_must_match_when_the_caller_sent_one(idp: Idp) -> None:
    check = verifier(idp)
    assert not refused(check, idp.token(nonce="n-123"), nonce="n-123")
    assert refused(check, idp.token(nonce="n-123"), nonce="n-456")
    assert refused(check, idp.token(), nonce="n-123")
    assert not refused(check, idp.token(nonce="n-123"))  # the caller kept no nonce: nothing to compare


def test_a_rotated_jwks_file_is_read_again(idp: Idp) -> None:
    check = verifier(idp)
    newer = rsa_key()
    token = jwt.encode(idp.claims(), newer, algorithm="RS256", headers={"kid": "rsa-2"})
    assert refused(check, token)
    time.sleep(0.01)  # a new modification time
    idp.publish(public_jwk(newer, "rsa-2", "RS256"))
    assert not refused(check, token)


def test_an_unreadable_jwks_file_is_unavailable_not_a_refusal(idp: Idp) -> None:
    check = verifier(idp)
    idp.jwks_path.write_text("not json", encoding="utf-8")
    with pytest.raises(Unavailable):
        check.verify(idp.token(), "", datetime.now(UTC))


class FileBackedClient(PyJWKClient):
    """PyJWKClient whose "endpoint" is the IdP's JWKS file, counting fetches (no network in tests)."""

    def __init__(self, path: Path) -> None:
        super().__init__("https://idp.example.test/jwks", lifespan=300)
        self.path = path
        self.fetches = 0

    def fetch_data(self) -> Any:
        self.fetches += 1
        data = json.loads(self.path.read_text(encoding="utf-8"))
        assert self.jwk_set_cache is not None
        self.jwk_set_cache.put(data)
        return data


def test_a_jwks_url_is_cached_and_an_unknown_kid_refetches_at_most_once_per_cooldown(idp: Idp) -> None:
    client = FileBackedClient(idp.jwks_path)
    check = IdTokenVerifier(oidc(idp), JwksUrl("https://idp.example.test/jwks", 300, client))
    for _ in range(3):
        assert not refused(check, idp.token())
    assert client.fetches == 1
    for _ in range(3):
        assert refused(check, idp.token(kid="made-up"))
    assert client.fetches == 2


# --- the rules of the domain ---


@given(st.lists(st.sampled_from(sorted(sso.KNOWN | sso.HELD | sso.INHERENT | {"rba", "mca", "user", "geo"}))))
def test_amr_shows_multi_factor_only_with_mfa_or_two_kinds_of_factor(amr: list[str]) -> None:
    kinds = [kind for kind in (sso.KNOWN, sso.HELD, sso.INHERENT) if set(amr) & kind]
    assert sso.multi_factor(tuple(amr), None, frozenset()) == (len(kinds) >= 2)
    assert sso.multi_factor((*amr, "mfa"), None, frozenset())


def test_a_configured_acr_shows_multi_factor() -> None:
    assert sso.multi_factor((), "phr", frozenset({"phr"}))
    assert not sso.multi_factor(("pwd",), "1", frozenset({"phr"}))


# --- the sign-in use case, on an in-memory unit of work ---


@dataclass
class Store:
    operators: dict[str, Operator] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    used: dict[str, datetime] = field(default_factory=dict)
    answers: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)


class FakeOperators:
    def __init__(self, rows: dict[str, Operator]) -> None:
        self.rows = rows

    def get(self, login: str, *, for_update: bool = False) -> Operator | None:
        return self.rows.get(login)

    def by_sso_email(self, email: str) -> Operator | None:
        return next((o for o in self.rows.values() if o.sso_email == email), None)

    def by_sso_subject(self, subject: str) -> Operator | None:
        return next((o for o in self.rows.values() if o.sso_subject == subject), None)

    def save(self, operator: Operator) -> None:
        self.rows[operator.login] = operator


class FakeSessions:
    def __init__(self, rows: dict[str, Session]) -> None:
        self.rows = rows

    def add(self, session: Session) -> None:
        self.rows[session.session_id] = session

    def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        return self.rows.get(session_id)


class FakeSsoTokens:
    def __init__(self, rows: dict[str, datetime]) -> None:
        self.rows = rows

    def used(self, replay_key: str) -> bool:
        return replay_key in self.rows

    def add(self, replay_key: str, used_at: datetime, usable_until: datetime) -> None:
        if replay_key in self.rows:
            raise ConflictingWrite(replay_key)
        self.rows[replay_key] = usable_until

    def forget_unusable(self, now: datetime) -> None:
        for key in [k for k, until in self.rows.items() if until < now]:
            del self.rows[key]


class FakeUow(CopyingUnitOfWork):
    store: Store
    pending: Store

    def _bind(self) -> None:
        self.operators = FakeOperators(self.pending.operators)
        self.sessions = FakeSessions(self.pending.sessions)
        self.sso_tokens = FakeSsoTokens(self.pending.used)


@dataclass(frozen=True)
class Policy:
    access_token_ttl_s: float = 600
    ops_session_ttl_s: float = 3600
    step_up_window_s: float = 300
    login_max_failures: int = 5
    login_lock_s: float = 900


LI_WEI = Operator(
    "li.wei", "Li Wei", Role.FINANCE, "", "", NOW, sso_email="li.wei@example.com", sso_subject="00u-li-wei"
)


@pytest.fixture
def store() -> Store:
    return Store(operators={LI_WEI.login: LI_WEI})


def sign_in(store: Store, idp: Idp, token: str, *, rules: SsoRules | None = None, **settings: str) -> Any:
    """Signs in with the rules given, else those the XB_OIDC_* settings make."""
    check = verifier(idp, **settings)
    rules = rules or check.settings.rules
    return access.login_with_id_token(lambda: FakeUow(store), check, rules, Policy(), token, "")  # type: ignore[arg-type,return-value]


def refused_sign_in(store: Store, idp: Idp, token: str, rules: SsoRules | None = None) -> bool:
    try:
        sign_in(store, idp, token, rules=rules)
    except Unauthenticated as error:
        assert str(error) == SSO_REFUSED
        return True
    return False


def test_a_valid_token_opens_the_operators_session_with_the_idps_second_factor(store: Store, idp: Idp) -> None:
    answer = sign_in(store, idp, idp.token())
    [session] = store.sessions.values()
    assert answer.session_token.startswith(f"xbo_sess_{session.session_id}_")
    assert (session.login, session.role, answer.operator.login, answer.multi_factor) == (
        "li.wei",
        Role.FINANCE,
        "li.wei",
        True,
    )
    assert answer.HasField("step_up_until") and session.second_factor_at is not None
    assert session.second_factor_at < session.created_at  # the IdP's auth_time, not the sign-in's time


def test_without_mfa_in_amr_the_session_has_no_step_up(store: Store, idp: Idp) -> None:
    answer = sign_in(store, idp, idp.token(amr=["pwd"]))
    [session] = store.sessions.values()
    assert not answer.multi_factor and not answer.HasField("step_up_until")
    assert session.second_factor_at is None and session.step_up_until(timedelta(minutes=5)) is None


def test_mfa_without_auth_time_opens_no_step_up_window(store: Store, idp: Idp) -> None:
    answer = sign_in(store, idp, idp.token(amr=["mfa"], auth_time=None))
    assert answer.multi_factor and not answer.HasField("step_up_until")


def test_require_mfa_refuses_a_single_factor_sign_in(store: Store, idp: Idp) -> None:
    assert refused_sign_in(store, idp, idp.token(amr=["pwd"]), SsoRules(require_mfa=True))
    assert not refused_sign_in(store, idp, idp.token(), SsoRules(require_mfa=True))


def test_a_token_is_used_once(store: Store, idp: Idp) -> None:
    token = idp.token()
    sign_in(store, idp, token)
    assert refused_sign_in(store, idp, token)
    without_jti = idp.token(jti=None)
    sign_in(store, idp, without_jti)
    assert refused_sign_in(store, idp, without_jti)
    assert len(store.sessions) == 2


def test_a_token_without_jti_is_not_replayed_by_re_spelling_its_signature(store: Store, idp: Idp) -> None:
    token = idp.token(jti=None)
    sign_in(store, idp, token)
    # A 256-byte RS256 signature leaves 4 unused bits in its last base64url character: A-P decode alike
    # in a lenient decoder. Refused either way: PyJWT decodes strictly, and the replay key ignores the
    # signature's spelling.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    respelled = token[:-1] + alphabet[(last // 16) * 16 + (last + 1) % 16]
    assert respelled != token and refused_sign_in(store, idp, respelled)
    assert len(store.sessions) == 1


def test_used_tokens_are_forgotten_once_they_could_not_be_used_anyway(store: Store, idp: Idp) -> None:
    sign_in(store, idp, idp.token())
    [key] = store.used
    store.used[key] = NOW - timedelta(seconds=1)
    sign_in(store, idp, idp.token())
    assert key not in store.used and len(store.used) == 1


def test_unknown_identity_and_disabled_operator_get_the_same_refusal(store: Store, idp: Idp) -> None:
    assert refused_sign_in(store, idp, idp.token(sub="00u-nobody"))
    store.operators["li.wei"] = replace(LI_WEI, disabled_at=NOW)
    assert refused_sign_in(store, idp, idp.token())
    assert not store.sessions and not store.used


def test_a_login_locked_by_failed_passwords_still_signs_in_with_the_idp(store: Store, idp: Idp) -> None:
    store.operators["li.wei"] = replace(LI_WEI, locked_until=datetime.now(UTC) + timedelta(hours=1))
    assert not refused_sign_in(store, idp, idp.token())


def test_mapping_by_email_needs_a_verified_email(store: Store, idp: Idp) -> None:
    by_email = SsoRules(map_by=MapBy.EMAIL)
    assert refused_sign_in(store, idp, idp.token(sub="anything", email_verified=False), by_email)
    assert refused_sign_in(store, idp, idp.token(sub="anything", email_verified="true"), by_email)
    assert refused_sign_in(store, idp, idp.token(sub="anything", email=None), by_email)
    assert not refused_sign_in(store, idp, idp.token(sub="anything", email="Li.Wei@Example.com"), by_email)


def test_group_roles_give_the_first_mapped_role_and_refuse_without_one(store: Store, idp: Idp) -> None:
    roles = "xb-admins=admin,xb-viewers=viewer"
    token = idp.token(groups=["staff", "xb-viewers", "xb-admins"])
    sign_in(store, idp, token, groups_claim="groups", group_roles=roles)
    assert [s.role for s in store.sessions.values()] == [Role.ADMIN]
    with pytest.raises(Unauthenticated):
        sign_in(store, idp, idp.token(groups=["staff"]), groups_claim="groups", group_roles=roles)


# --- settings ---


def test_single_sign_on_is_off_by_default_and_checked_when_on(idp: Idp) -> None:
    assert IdentitySettings.from_env({}).oidc is None
    settings = oidc(idp, map_by="email", mfa_acr="phr,urn:mfa", group_roles="a=admin", groups_claim="groups")
    assert settings.rules.map_by is MapBy.EMAIL and settings.rules.mfa_acrs == {"phr", "urn:mfa"}
    bad = [
        {"XB_OIDC_ALGORITHMS": "RS256,HS256"},
        {"XB_OIDC_ALGORITHMS": "none"},
        {"XB_OIDC_JWKS": "http://idp.example.test/jwks"},
        {"XB_OIDC_JWKS": "/no/such/jwks.json"},
        {"XB_OIDC_CLIENT_ID": ""},
        {"XB_OIDC_CLOCK_SKEW_S": "3600"},
        {"XB_OIDC_MAP_BY": "name"},
        {"XB_OIDC_GROUP_ROLES": "a=root", "XB_OIDC_GROUPS_CLAIM": "groups"},
        {"XB_OIDC_GROUP_ROLES": "a=admin"},
    ]
    for more in bad:
        with pytest.raises(ConfigurationError):
            IdentitySettings.from_env({**idp.env(), **more})
