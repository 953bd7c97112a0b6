"""Property test over the business operations: any sequence of collections, settlements, refunds and
payouts keeps the ledger's invariants, never refunds more than was collected, and the merchant's money
is exactly what the operations say it should be."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.payments.ledger import service_layer as lh
from services.payments.ledger.errors import InsufficientFunds, InvalidState, RefundExceedsCollected
from services.payments.payouts import service_layer as ph
from services.payments.payouts.domain import PayoutStatus, ScreeningDecision
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import CollectionMethod
from services.shared.money import Money
from services.shared.settings import Settings
from tests.ledger_support import FakeClock, FakePayees, FakeScreeningGate, in_uow, key, merchant, payments_context

CURRENCY = "KWD"  # three decimals: the minor unit rules are exercised on every amount


def kwd(minor: int) -> Money:
    return Money.from_minor(minor, CURRENCY)


class MerchantMachine(RuleBasedStateMachine):
    @initialize()
    def open(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self._ctx = payments_context(Settings(var_dir=Path(self._tmp.name), log_json=False))
        self.context = self._ctx.__enter__()
        self.clock = FakeClock()
        self.merchant = merchant()
        self.payees = FakePayees()
        self.payees.add(self.merchant, "BA", "Acme Trading", "KW", CURRENCY)
        self.collections: list[str] = []
        self.payouts: list[str] = []
        self.expected_minor = 0  # what the merchant's wallets must hold in total (pending + available + reserved)
        self.refunded: dict[str, int] = {}
        self.gross: dict[str, int] = {}

    def teardown(self) -> None:
        if hasattr(self, "_ctx"):
            self._ctx.__exit__(None, None, None)
            self._tmp.cleanup()

    @rule(gross=st.integers(1, 200_000), fee_share=st.integers(0, 99))
    def collect(self, gross: int, fee_share: int) -> None:
        fee = gross * fee_share // 100
        command = sh.RecordCollection(self.merchant, "KNET", key("ref"), CollectionMethod.CARD, kwd(gross), kwd(fee))
        collection = in_uow(self.context, lambda uow, now: sh.record_collection(uow, command, now), self.clock)
        self.collections.append(collection.code)
        self.gross[collection.code] = gross
        self.refunded[collection.code] = 0
        self.expected_minor += gross - fee

    @precondition(lambda self: bool(getattr(self, "collections", None)))
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from(self.collections))
        try:
            settled = in_uow(self.context, lambda uow, now: sh.confirm_settlement(uow, code, now), self.clock)
        except InvalidState:
            return
        assert settled.platform_fee is not None
        self.expected_minor -= settled.platform_fee.minor

    @precondition(lambda self: bool(getattr(self, "collections", None)))
    @rule(data=st.data(), amount=st.integers(1, 250_000))
    def refund(self, data: st.DataObject, amount: int) -> None:
        code = data.draw(st.sampled_from(self.collections))
        try:
            in_uow(self.context, lambda uow, now: sh.refund_collection(uow, code, kwd(amount), now), self.clock)
        except (RefundExceedsCollected, InsufficientFunds):
            return
        self.refunded[code] += amount
        self.expected_minor -= amount

    @rule(amount=st.integers(1, 100_000), decision=st.sampled_from(["CLEAR", "CLEAR", "REVIEW", "BLOCK"]))
    def pay_out(self, amount: int, decision: str) -> None:
        command = ph.CreatePayout(key("po"), self.merchant, "BA", kwd(amount), "NBK", timedelta(minutes=30))
        screened = ph.screen_payee(self.payees, FakeScreeningGate(decision), command)
        try:
            payout = in_uow(self.context, lambda uow, now: ph.create_payout(uow, command, screened, now), self.clock)
        except InsufficientFunds:
            return
        assert (payout.status is PayoutStatus.ON_HOLD) == (ScreeningDecision(decision) is not ScreeningDecision.CLEAR)
        self.payouts.append(payout.code)

    @precondition(lambda self: bool(getattr(self, "payouts", None)))
    @rule(data=st.data(), post=st.booleans())
    def finish_payout(self, data: st.DataObject, post: bool) -> None:
        code = data.draw(st.sampled_from(self.payouts))
        try:
            if post:
                done = in_uow(self.context, lambda uow, now: ph.post_payout(uow, code, now), self.clock)
                assert done.posted is not None
                self.expected_minor -= done.posted.minor
            else:
                in_uow(self.context, lambda uow, now: ph.void_payout(uow, code, "test", now), self.clock)
        except InvalidState:
            return

    @rule(minutes=st.integers(1, 40))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        lh.expire_pending(self.context.uow, clock=self.clock, hooks=[ph.expire_payout])

    @invariant()
    def money_adds_up(self) -> None:
        if not hasattr(self, "context"):
            return
        report = lh.verify_ledger(self.context.uow)
        assert report.ok, report.problems
        wallets = lh.get_balances(self.context.uow, self.merchant)
        total = sum((w.total.minor for w in wallets), 0)
        assert total == self.expected_minor
        for w in wallets:
            assert w.pending.minor >= 0 and w.available.minor >= 0 and w.reserved.minor >= 0
        for code, refunded in self.refunded.items():
            assert refunded <= self.gross[code]


MerchantMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestMerchantOperations = MerchantMachine.TestCase
