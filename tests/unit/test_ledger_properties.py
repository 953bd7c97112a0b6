"""Property tests (hypothesis): for any sequence of ledger operations the invariants hold.

Every currency's postings sum to zero (posted and pending), no account with a balance limit breaks it,
stored totals equal the sums of the transfers, and replaying a key changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PLATFORM, AccountKind, PostTransaction, Transfer
from services.payments.ledger.errors import InsufficientFunds, PendingTransferResolved
from services.shared.money import Money
from services.shared.settings import Settings
from tests.ledger_support import FakeClock, key, merchant, payments_context

CURRENCIES = ("USD", "JPY", "KWD")  # minor units 2, 0, 3


def amounts(currency: str) -> st.SearchStrategy[Money]:
    places = {"USD": 2, "JPY": 0, "KWD": 3}[currency]
    return st.integers(min_value=1, max_value=50_000).map(lambda m: Money(Decimal(m).scaleb(-places), currency))


class LedgerMachine(RuleBasedStateMachine):
    """Random transfers (plain, linked, pending), posts, voids, expiries and replays against one ledger."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.pending: list[int] = []
        self.posted: list[PostTransaction] = []
        self.balances_at_replay: dict[str, object] | None = None

    @initialize(tmp=st.just(None))
    def open_ledger(self, tmp: None) -> None:
        import tempfile
        from pathlib import Path

        self._tmp = tempfile.TemporaryDirectory()
        self._ctx = payments_context(Settings(var_dir=Path(self._tmp.name), log_json=False))
        self.context = self._ctx.__enter__()
        self.accounts: dict[str, list[str]] = {}
        for currency in CURRENCIES:
            codes_ = []
            for owner, kind in (
                ("PSP", AccountKind.CLEARING),  # allow_negative: the source of money
                (merchant(), AccountKind.MERCHANT_AVAILABLE),
                (merchant(), AccountKind.MERCHANT_AVAILABLE),
                (PLATFORM, AccountKind.FEES),
                (PLATFORM, AccountKind.PAYOUTS_IN_FLIGHT),
            ):
                codes_.append(lh.open_account(self.context.uow, lh.OpenAccount(owner, kind, currency)).code)
            self.accounts[currency] = codes_

    def teardown(self) -> None:
        if hasattr(self, "_ctx"):
            self._ctx.__exit__(None, None, None)
            self._tmp.cleanup()

    @rule(
        data=st.data(),
        currency=st.sampled_from(CURRENCIES),
        legs=st.integers(min_value=1, max_value=3),
        pending=st.booleans(),
    )
    def transfer(self, data: st.DataObject, currency: str, legs: int, pending: bool) -> None:
        codes_ = self.accounts[currency]
        transfers = []
        for _ in range(legs):
            debit, credit = data.draw(st.permutations(codes_).map(lambda p: (p[0], p[1])))
            timeout = timedelta(minutes=data.draw(st.integers(1, 30))) if pending else None
            transfers.append(Transfer(debit, credit, data.draw(amounts(currency)), "prop", timeout))
        command = PostTransaction(key("prop"), tuple(transfers), "adjustment")
        try:
            result = lh.post_transaction(self.context.uow, command, clock=self.clock)
        except InsufficientFunds:
            return
        self.posted.append(command)
        self.pending.extend(t.id for t in result.transfers if t.expires_at is not None)

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data(), void=st.booleans(), part=st.integers(min_value=1, max_value=100))
    def resolve(self, data: st.DataObject, void: bool, part: int) -> None:
        pending_id = data.draw(st.sampled_from(self.pending))
        self.pending.remove(pending_id)
        try:
            if void:
                lh.void_pending(self.context.uow, lh.ResolvePending(key("void"), pending_id), clock=self.clock)
            else:
                with self.context.uow() as uow:
                    from services.payments.ledger.adapters.repository import LedgerRepository

                    record = LedgerRepository(uow.connection).pending(pending_id)
                assert record is not None
                amount = record.transfer.amount
                minor = max(1, amount.minor * part // 100)
                lh.post_pending(
                    self.context.uow,
                    lh.ResolvePending(key("post"), pending_id, Money.from_minor(minor, amount.currency)),
                    clock=self.clock,
                )
        except PendingTransferResolved:
            pass
        except Exception as error:  # an expired reservation may not be posted; anything else is a bug
            assert type(error).__name__ == "PendingTransferExpired", error

    @rule(minutes=st.integers(min_value=1, max_value=20))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        lh.expire_pending(self.context.uow, clock=self.clock)

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        command = data.draw(st.sampled_from(self.posted))
        before = [(a.code, a.balances) for a in lh.list_accounts(self.context.uow, limit=1000)]
        result = lh.post_transaction(self.context.uow, command, clock=self.clock)
        assert result.replayed
        assert [(a.code, a.balances) for a in lh.list_accounts(self.context.uow, limit=1000)] == before

    @invariant()
    def ledger_holds(self) -> None:
        if not hasattr(self, "context"):
            return
        report = lh.verify_ledger(self.context.uow)
        assert report.ok, report.problems
        for sums in report.currencies.values():
            assert sums.debits_posted == sums.credits_posted
            assert sums.debits_pending == sums.credits_pending


LedgerMachine.TestCase.settings = settings(
    max_examples=15, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerProperties = LedgerMachine.TestCase
