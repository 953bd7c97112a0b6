"""Applying the cross-border transfer rules to every answer, on both doors (gateway/transfer_policy.py).

For each call with a caller (public reference data is PUBLIC throughout and is not checked):
- origin: the jurisdiction of the merchant whose data it is (the calling merchant; for an operator, the
  merchant the request names, else `XB_TRANSFER_HOME`, default CN);
- destinations: the caller's country (a merchant's registered country; operators `XB_TRANSFER_OPERATOR_COUNTRY`,
  default CN), plus the country a caller declares it sends the answer on to, `X-Transfer-Destination`
  (REST header) or `x-transfer-destination` (gRPC metadata); the strictest verdict of the two applies;
- the rule table: the identity service's TransferPolicy, cached for `XB_TRANSFER_POLICY_TTL_S` (default 1 s)
  and dropped at once when a rule or kill-switch change passes through this gateway; when identity cannot
  be asked, the last table read is used, and with none the answer is held back (503);
- the legal bases on file for the owning merchant, cached 5 s like keys;
- the persons of PERSONAL and PERSONAL_SENSITIVE data sent this calendar year (gateway/transfer_counters.py).

The verdicts per class are computed once per (method, origin, destination, rule revision, bases, person
tier) and kept. A BLOCK verdict for a class the answer carries refuses the whole answer (451, naming the
rule); MASK masks that class's fields; every verdict goes to the audit entry.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from gateway.auth import KEY_CACHE_TTL_S, LOOKUP_TIMEOUT_S, Guard, TtlCache
from gateway.backends import Backends, Metadata
from gateway.descriptors import MethodInfo
from gateway.tenancy import Principal
from gateway.transfer_counters import Counters, open_counters
from gateway.transfer_policy import (
    PERSONAL_CLASSES,
    Action,
    Basis,
    DecisionTable,
    Policy,
    Verdict,
    Why,
    bases_for,
    classes_sent,
    decide,
    mask,
    people,
    reachable_classes,
    thresholds,
    tier,
)
from services.shared.errors import TransferBasisMissing, TransferBlocked, Unavailable, ValidationError
from services.shared.logs import get_logger
from services.shared.settings import Settings, boolean, env_setting, non_negative_finite

log = get_logger(__name__)

DESTINATION_HEADER = "x-transfer-destination"
UNKNOWN_COUNTRY = "ZZ"  # ISO 3166 user-assigned: a caller whose country could not be read gets the "*" rules
PLATFORM = "platform"
_SVC = "/xborder.identity.v1.TransferRuleService/"
_GET_POLICY = _SVC + "GetTransferPolicy"
_LIST_BASES = _SVC + "ListLegalBases"
WRITES = frozenset({_SVC + "PublishTransferRules", _SVC + "SetKillSwitch", _SVC + "RegisterLegalBasis"})
CONTROL_PLANE = "xborder.identity.v1.TransferRuleService"
"""The rule service's own answers (rules, switches, bases: public and business data) are not held to the
rules, so a kill switch can never lock the operators who release it out."""
_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_TABLES = 10_000
_SEVERITY = {Action.ALLOW: 0, Action.MASK: 1, Action.BLOCK: 2}


def _country(value: str) -> str:
    code = value.strip().upper()
    if not _COUNTRY.match(code):
        raise ValueError(value)
    return code


@dataclass(frozen=True)
class TransferSettings:
    enabled: bool = True
    home: str = "CN"
    operator_country: str = "CN"
    policy_ttl_s: float = 1.0
    counters_path: Path | None = None  # default: <var_dir>/gateway-transfer-persons.sqlite3

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TransferSettings:
        env = os.environ if environ is None else environ
        default = cls()
        enabled = env_setting(env, "transfer_rules", boolean, "true or false")
        home = env_setting(env, "transfer_home", _country, "an ISO 3166-1 alpha-2 code")
        operator = env_setting(env, "transfer_operator_country", _country, "an ISO 3166-1 alpha-2 code")
        ttl = env_setting(env, "transfer_policy_ttl_s", float, "a number of seconds >= 0", non_negative_finite)
        path = env_setting(env, "transfer_counters_path", lambda v: Path(v).expanduser().resolve(), "a file path")
        return cls(
            enabled=default.enabled if enabled is None else enabled,
            home=home or default.home,
            operator_country=operator or default.operator_country,
            policy_ttl_s=default.policy_ttl_s if ttl is None else ttl,
            counters_path=path,
        )

    def counters_file(self, settings: Settings) -> Path:
        return self.counters_path or settings.var_dir / "gateway-transfer-persons.sqlite3"

    def open_counters(self, settings: Settings) -> Counters:
        """The person counters: in PostgreSQL when the platform runs on it (shared by every replica) and
        XB_TRANSFER_COUNTERS_PATH is not set, else in the file."""
        return open_counters(self.counters_path, self.counters_file(settings), settings)


@dataclass(frozen=True)
class Outcome:
    """What the audit entry keeps of a call's transfer decisions: where to, and each verdict's text."""

    destination: str
    decisions: tuple[str, ...]


def declared_destination(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if not _COUNTRY.match(code):
        raise ValidationError.single(field, f"must be an ISO 3166-1 alpha-2 country code, got {value!r}")
    return code


def _basis(message: Any) -> Basis:
    kind = type(message).DESCRIPTOR.fields_by_name["kind"].enum_type.values_by_number[message.kind].name
    return Basis(
        message.basis_id,
        str(kind).removeprefix("LEGAL_BASIS_KIND_"),
        message.destination,
        date.fromisoformat(message.valid_from),
        date.fromisoformat(message.valid_until) if message.valid_until else None,
    )


@dataclass(frozen=True)
class Parties:
    owner: str  # merchant code whose data it is, or PLATFORM
    origin: str
    destinations: tuple[str, ...]


class TransferGuard:
    def __init__(
        self,
        backends: Backends,
        methods: Mapping[str, MethodInfo],
        settings: TransferSettings,
        counters: Counters | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for path in (_GET_POLICY, _LIST_BASES):
            if path not in methods:
                raise ValueError(f"transfer rules need {path}, which the discovered services lack")
        self.backends = backends
        self.methods = dict(methods)
        self.settings = settings
        self.counters = counters
        self.clock = clock
        self.bases: TtlCache[tuple[Basis, ...]] = TtlCache(KEY_CACHE_TTL_S, clock=clock)
        self._policy: Policy | None = None
        self._read_at = -1e18
        self._tables: dict[tuple[Any, ...], DecisionTable] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget the table at once (a rule or kill-switch change passed through this gateway)."""
        self._read_at = -1e18
        self.bases = TtlCache(self.bases.ttl, clock=self.clock)

    def close(self) -> None:
        if self.counters is not None:
            self.counters.close()

    # --- reading what a decision needs (coroutines for REST, blocking for the front door) ---

    def _fresh(self) -> Policy | None:
        if self._policy is not None and self.clock() - self._read_at < self.settings.policy_ttl_s:
            return self._policy
        return None

    def _keep(self, reply: Any) -> Policy:
        policy = Policy.from_proto(reply.policy)
        with self._lock:
            if self._policy is None or policy.revision != self._policy.revision:
                self._tables.clear()
            self._policy, self._read_at = policy, self.clock()
        return policy

    def _stale(self) -> Policy:
        if self._policy is None:
            raise Unavailable("the transfer rules cannot be read right now, so this answer is held back; retry later")
        return self._policy

    async def policy(self, metadata: Metadata) -> Policy:
        found = self._fresh()
        if found is not None:
            return found
        method = self.methods[_GET_POLICY]
        try:
            reply = await self.backends.call(method, method.input_class(), timeout=LOOKUP_TIMEOUT_S, metadata=metadata)
        except Exception as error:  # identity down: keep applying the last table read
            log.warning("transfer_policy_unavailable", error=type(error).__name__)
            return self._stale()
        return self._keep(reply)

    def policy_sync(self, metadata: Metadata) -> Policy:
        found = self._fresh()
        if found is not None:
            return found
        method = self.methods[_GET_POLICY]
        try:
            reply = self.backends.call_sync(method, method.input_class(), timeout=LOOKUP_TIMEOUT_S, metadata=metadata)
        except Exception as error:
            log.warning("transfer_policy_unavailable", error=type(error).__name__)
            return self._stale()
        return self._keep(reply)

    async def legal_bases(self, owner: str, metadata: Metadata) -> tuple[Basis, ...]:
        if owner == PLATFORM:
            return ()
        cached = self.bases.get(owner)
        if cached is not None:
            return cached
        method = self.methods[_LIST_BASES]
        try:
            reply = await self.backends.call(
                method, method.input_class(merchant_code=owner), timeout=LOOKUP_TIMEOUT_S, metadata=metadata
            )
        except Exception:  # no basis can be shown: the rules' `otherwise` applies
            return ()
        found = tuple(_basis(b) for b in reply.legal_bases)
        self.bases.put(owner, found)
        return found

    def legal_bases_sync(self, owner: str, metadata: Metadata) -> tuple[Basis, ...]:
        if owner == PLATFORM:
            return ()
        cached = self.bases.get(owner)
        if cached is not None:
            return cached
        method = self.methods[_LIST_BASES]
        try:
            reply = self.backends.call_sync(
                method, method.input_class(merchant_code=owner), timeout=LOOKUP_TIMEOUT_S, metadata=metadata
            )
        except Exception:
            return ()
        found = tuple(_basis(b) for b in reply.legal_bases)
        self.bases.put(owner, found)
        return found

    def owners(self, principal: Principal, request: Message, reply: Message) -> tuple[str, ...]:
        """Whose data the answer is: the calling merchant; for an operator every merchant the request or the
        answer names (a list may mix merchants), else the platform itself."""
        if principal.merchant_code:
            return (principal.merchant_code,)
        found = sorted(merchant_codes(request) | merchant_codes(reply))
        return tuple(found) or (PLATFORM,)

    def parties(self, principal: Principal, owner: str, owner_country: str, declared: str | None) -> Parties:
        origin = owner_country or (self.settings.home if owner == PLATFORM else UNKNOWN_COUNTRY)
        caller = (owner_country or UNKNOWN_COUNTRY) if principal.merchant_code else self.settings.operator_country
        destinations = (caller,) if declared is None or declared == caller else (caller, declared)
        return Parties(owner, origin, destinations)

    async def enforce(
        self,
        guard: Guard,
        method: MethodInfo,
        principal: Principal,
        request: Message,
        reply: Message,
        declared: str | None,
        metadata: Metadata,
    ) -> Outcome:
        """The REST door's whole step: read what the decision needs, then `apply`."""
        if method.service_full_name == CONTROL_PLANE:
            return self._control(method)
        policy = await self.policy(metadata)
        owned = []
        for owner in self.owners(principal, request, reply):
            country = await guard.merchant_country(owner, metadata) if owner != PLATFORM else ""
            owned.append((self.parties(principal, owner, country, declared), await self.legal_bases(owner, metadata)))
        return self.apply(method, policy, owned, reply)

    def enforce_sync(
        self,
        guard: Guard,
        method: MethodInfo,
        principal: Principal,
        request: Message,
        reply: Message,
        declared: str | None,
        metadata: Metadata,
    ) -> Outcome:
        """The same on the front door's worker threads."""
        if method.service_full_name == CONTROL_PLANE:
            return self._control(method)
        policy = self.policy_sync(metadata)
        owned = []
        for owner in self.owners(principal, request, reply):
            country = guard.merchant_country_sync(owner, metadata) if owner != PLATFORM else ""
            owned.append((self.parties(principal, owner, country, declared), self.legal_bases_sync(owner, metadata)))
        return self.apply(method, policy, owned, reply)

    def _control(self, method: MethodInfo) -> Outcome:
        if method.grpc_path in WRITES:
            self.invalidate()
        return Outcome("", ())

    # --- the decision ---

    def apply(
        self, method: MethodInfo, policy: Policy, owned: list[tuple[Parties, tuple[Basis, ...]]], reply: Message
    ) -> Outcome:
        """Decide for every class the answer carries, for each owner and destination, the strictest verdict
        winning; mask in place, or raise to refuse the answer whole."""
        destination = ",".join(sorted({d for parties, _ in owned for d in parties.destinations}))
        carried = classes_sent(reply)
        if not carried:
            return Outcome(destination, ())
        now = datetime.now(UTC)
        strictest: dict[tuple[str, str, str], Verdict] = {}
        for parties, bases in owned:
            for place in parties.destinations:
                table = self._table(method, policy, parties, place, bases, now)
                for cls in carried:
                    verdict = table.verdicts.get(cls) or decide(policy, parties.origin, place, cls, 0, {})
                    key = (cls, parties.origin, place)
                    kept = strictest.get(key)
                    if kept is None or _SEVERITY[verdict.action] > _SEVERITY[kept.action]:
                        strictest[key] = verdict
        verdicts = tuple(strictest[k] for k in sorted(strictest))
        blocked = next((v for v in verdicts if v.action is Action.BLOCK), None)
        if blocked is not None:
            raise _refusal(blocked)
        masked = frozenset(v.data_class for v in verdicts if v.action is Action.MASK)
        if masked:
            mask(reply, masked)
        for parties, _ in owned:
            self._count(parties, reply, carried - masked, now.year)
        return Outcome(destination, tuple(v.audit_text() for v in verdicts))

    def _table(
        self, method: MethodInfo, policy: Policy, parties: Parties, place: str, bases: tuple[Basis, ...], now: datetime
    ) -> DecisionTable:
        held = bases_for(bases, policy, place, now.date())
        persons: dict[str, int] = {}
        tiers: list[int] = []
        reachable = reachable_classes(method.descriptor.output_type)
        for cls in sorted(reachable & PERSONAL_CLASSES):
            limits = thresholds(policy, parties.origin, cls, place)
            if limits and self.counters is not None:
                persons[cls] = self.counters.count(now.year, parties.owner, cls)
            tiers.append(tier(limits, persons.get(cls, 0)))
        key = (
            method.grpc_path,
            parties.origin,
            place,
            policy.revision,
            tuple(sorted((k, tuple(v)) for k, v in held.items())),
            tuple(tiers),
        )
        table = self._tables.get(key)
        if table is None:
            table = DecisionTable(
                {c: decide(policy, parties.origin, place, c, persons.get(c, 0), held) for c in reachable}
            )
            with self._lock:
                if len(self._tables) >= MAX_TABLES:
                    self._tables.clear()
                self._tables[key] = table
        return table

    def _count(self, parties: Parties, reply: Message, sent: frozenset[str], year: int) -> None:
        if self.counters is None or not (sent & PERSONAL_CLASSES):
            return
        if all(d == parties.origin for d in parties.destinations):
            return  # nothing left the origin's country: not a transfer to count
        for cls, identities in people(reply, sent & PERSONAL_CLASSES).items():
            self.counters.add(year, parties.owner, cls, identities)


def merchant_codes(message: Message) -> set[str]:
    """Every `merchant_code` value set in a message, nested ones included."""
    found: set[str] = set()
    for f, value in message.ListFields():
        if f.name == "merchant_code" and isinstance(value, str) and value:
            found.add(value)
        elif f.message_type is not None and not f.message_type.GetOptions().map_entry:
            for item in value if f.is_repeated else (value,):
                found |= merchant_codes(item)
    return found


def _refusal(verdict: Verdict) -> Exception:
    metadata = {
        "rule": verdict.rule_id or verdict.why.value,
        "version": str(verdict.version),
        "why": verdict.why.value,
        "dataClass": verdict.data_class,
        "origin": verdict.origin,
        "destination": verdict.destination,
        "decision": verdict.audit_text(),
    }
    where = f"{verdict.data_class} data of {verdict.origin} origin may not go to {verdict.destination}"
    if verdict.why is Why.BASIS_MISSING:
        metadata["needs"] = ", ".join(verdict.needs)
        return TransferBasisMissing(
            f"{where}: rule {verdict.rule} needs a legal basis on file ({metadata['needs']})", metadata=metadata
        )
    if verdict.why in (Why.KILL_SWITCH_CLASS, Why.KILL_SWITCH_DESTINATION):
        return TransferBlocked(f"{where}: a kill switch blocks it ({verdict.why.value})", metadata=metadata)
    return TransferBlocked(f"{where}: rule {verdict.rule} blocks it ({verdict.why.value})", metadata=metadata)
