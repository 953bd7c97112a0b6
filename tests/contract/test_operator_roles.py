"""The ops staff roles grant scopes the RPCs declare, as merchant and operator scopes are contract-tested.

An admin holds every scope an exposed RPC requires (but `identity.internal`); every role holds the
viewer's reads and its own session's scope; no role holds a scope no RPC requires.
"""

from __future__ import annotations

from gateway.descriptors import discover
from gateway.tenancy import RULES, Kind
from services.identity.domain.roles import ROLE_SCOPES, SESSION_SCOPES, Role
from services.identity.domain.scopes import OPERATOR_SCOPES

METHODS = {m.grpc_path: m for s in discover() for m in s.methods}
EXPOSED = {METHODS[p].required_scope for p, r in RULES.items() if r.kind in (Kind.MERCHANT, Kind.OPS)}


def test_every_role_scope_is_a_scope_an_exposed_rpc_requires() -> None:
    for role, scopes in ROLE_SCOPES.items():
        assert scopes <= EXPOSED, (role, sorted(scopes - EXPOSED))


def test_admin_holds_every_exposed_scope() -> None:
    assert ROLE_SCOPES[Role.ADMIN] == EXPOSED - {"identity.internal"}


def test_every_role_reads_what_a_viewer_reads_and_has_its_session() -> None:
    for role, scopes in ROLE_SCOPES.items():
        assert ROLE_SCOPES[Role.VIEWER] <= scopes, role
        assert scopes >= SESSION_SCOPES, role


def test_only_admins_manage_operators_and_only_sessions_step_up() -> None:
    assert [r for r, s in ROLE_SCOPES.items() if "identity.operators.write" in s] == [Role.ADMIN]
    assert not SESSION_SCOPES & OPERATOR_SCOPES


def test_a_viewer_writes_nothing() -> None:
    assert all(s.endswith(".read") for s in ROLE_SCOPES[Role.VIEWER] - SESSION_SCOPES)


def test_only_compliance_officers_and_admins_decide_on_holds_and_no_key_can() -> None:
    deciding = sorted(r.value for r, s in ROLE_SCOPES.items() if "identity.holds.decide" in s)
    assert deciding == ["admin", "compliance_officer"]
    assert "identity.holds.decide" not in OPERATOR_SCOPES
