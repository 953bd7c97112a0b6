"""The return (RMA) lifecycle and the restock-versus-return-to-origin comparison, as pure domain code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.logistics.domain.pricing import Cost, Parcel
from services.logistics.domain.returns import (
    TERMINAL,
    TRANSITIONS,
    Condition,
    CostOption,
    Disposition,
    ReasonCode,
    ReturnLine,
    ReturnStatus,
    Rma,
    Route,
    WarehouseFees,
    compare,
    decided,
    inspected,
    moved,
    no_reverse_channel,
    origin_cost,
    restock_cost,
)
from services.shared.errors import ValidationError
from services.shared.money import Money

T0 = datetime(2026, 12, 6, tzinfo=UTC)
PARCEL = Parcel(Decimal("1.2"), Decimal(30), Decimal(20), Decimal(10))
FEES = WarehouseFees(
    "WH-US",
    "test warehouse",
    frozenset({"US"}),
    "CNY",
    Decimal("32.00"),
    Decimal("7.50"),
    Decimal("6.00"),
    Decimal("4.50"),
    Decimal("3.50"),
)


def fresh(lines: int = 2) -> Rma:
    return Rma(
        "THG0000000000000X",
        "MCG0000000000000X",
        "YDG0000000000000X",
        "EX123456785CN",
        "",
        "",
        "US",
        "CN",
        tuple(ReturnLine(n, f"SKU-{n}", n, ReasonCode.DAMAGED) for n in range(1, lines + 1)),
        (PARCEL,),
        ReturnStatus.AUTHORISED,
        T0,
        T0,
    )


# A command: a target status and, where the move needs them, its arguments. As in the API, the statuses that
# carry data (a label's route, the lines' conditions, the disposition) are reached only with it.
WITH_DATA = (ReturnStatus.LABEL_ISSUED, ReturnStatus.INSPECTED, ReturnStatus.DISPOSITION_DECIDED)
commands = st.one_of(
    st.tuples(st.sampled_from([s for s in ReturnStatus if s not in WITH_DATA]), st.none()),
    st.tuples(st.just("route"), st.sampled_from(list(Route))),
    st.tuples(st.just("inspect"), st.lists(st.sampled_from(list(Condition)), min_size=2, max_size=2)),
    st.tuples(st.just("decide"), st.tuples(st.sampled_from(list(Disposition)), st.sampled_from(["", "WH-US"]))),
)


def apply(rma: Rma, command: tuple, at: datetime) -> Rma:
    kind, argument = command
    if kind == "route":
        return moved(rma, ReturnStatus.LABEL_ISSUED, at, route=argument)
    if kind == "inspect":
        return inspected(rma, dict(enumerate(argument, start=1)), at)
    if kind == "decide":
        return decided(rma, argument[0], argument[1], at)
    return moved(rma, kind, at)


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=25))
def test_no_drawn_sequence_reaches_an_illegal_state(sequence: list[tuple]) -> None:
    rma = fresh()
    history = [rma.status]
    refunds = 0
    for step, command in enumerate(sequence):
        before = rma
        try:
            rma = apply(rma, command, T0 + timedelta(minutes=step))
        except ValidationError:
            assert rma == before  # a refused command changes nothing
            continue
        assert rma.status in TRANSITIONS[before.status], (before.status, rma.status)
        assert before.status not in TERMINAL
        history.append(rma.status)
        refunds += rma.status is ReturnStatus.REFUND_REQUESTED
        # What each status implies about the rest of the return.
        reached_inspection = ReturnStatus.INSPECTED in history
        assert all(line.condition is not None for line in rma.lines) == reached_inspection
        assert (rma.disposition is not None) == (ReturnStatus.DISPOSITION_DECIDED in history)
        if rma.disposition is Disposition.RESTOCK:
            assert rma.route is not Route.RETURN_TO_ORIGIN and rma.warehouse_code
            assert any(line.condition is Condition.RESALEABLE for line in rma.lines)
        if rma.status is ReturnStatus.CANCELLED:
            assert ReturnStatus.IN_TRANSIT not in history
    assert refunds <= 1
    assert history.count(ReturnStatus.REFUND_REQUESTED) <= 1


def test_the_happy_path_and_what_is_refused_on_it() -> None:
    rma = moved(fresh(), ReturnStatus.LABEL_ISSUED, T0, route=Route.RESTOCK)
    with pytest.raises(ValidationError) as early:
        moved(rma, ReturnStatus.RECEIVED, T0)
    assert early.value.violations[0].field == "status"
    rma = moved(moved(rma, ReturnStatus.IN_TRANSIT, T0), ReturnStatus.RECEIVED, T0)
    with pytest.raises(ValidationError, match="cannot become cancelled"):
        moved(rma, ReturnStatus.CANCELLED, T0)
    with pytest.raises(ValidationError, match="line 2 has no condition"):
        inspected(rma, {1: Condition.RESALEABLE}, T0)
    rma = inspected(rma, {1: Condition.DAMAGED, 2: Condition.MISSING}, T0)
    with pytest.raises(ValidationError, match="nothing to restock"):
        decided(rma, Disposition.RESTOCK, "WH-US", T0)
    rma = decided(rma, Disposition.DISPOSE, "WH-US", T0)
    assert rma.warehouse_code == ""  # only a restock keeps a warehouse
    rma = moved(rma, ReturnStatus.REFUND_REQUESTED, T0)
    with pytest.raises(ValidationError, match="none: it is final"):
        moved(rma, ReturnStatus.REFUND_REQUESTED, T0)


def test_restock_cost_adds_up_its_breakdown() -> None:
    option = restock_cost(FEES, "US", (PARCEL, PARCEL), 3)
    parts = dict(option.breakdown)
    assert parts["local_return_leg"] == Money(Decimal("82.00"), "CNY")  # 2 x 32 + 7.50 x 2.4 kg
    assert parts["receiving"] == Money(Decimal("12.00"), "CNY")
    assert option.total == Money(Decimal("118.00"), "CNY")
    missing = restock_cost(None, "JP", (PARCEL,), 1)
    assert missing.total is None and missing.missing == "no overseas warehouse takes returns in JP"


def _origin(total: str, currency: str = "CNY") -> CostOption:
    zero = Money(Decimal(0), currency)
    return origin_cost("REV", Cost.of(Money(Decimal(total), currency), zero, zero, zero), "CN")


@given(st.decimals(min_value=0, max_value=10_000, places=2), st.decimals(min_value=0, max_value=10_000, places=2))
def test_the_recommendation_is_the_cheaper_option(restock: Decimal, to_origin: Decimal) -> None:
    option = CostOption(Route.RESTOCK, "", Money(restock, "CNY"), warehouse_code="WH")
    result = compare(option, _origin(str(to_origin)))
    assert result.recommended is (Route.RESTOCK if restock <= to_origin else Route.RETURN_TO_ORIGIN)


def test_what_cannot_be_compared_is_said() -> None:
    restock = CostOption(Route.RESTOCK, "", Money(Decimal(10), "EUR"), warehouse_code="WH")
    across = compare(restock, _origin("10"))
    assert across.recommended is None and "no FX rate" in across.reason
    neither = compare(restock_cost(None, "AE", (PARCEL,), 1), no_reverse_channel("AE", "CN", ""))
    assert neither.recommended is None and neither.reason.startswith("neither option can be priced")
    only = compare(restock_cost(None, "JP", (PARCEL,), 1), _origin("80"))
    assert only.recommended is Route.RETURN_TO_ORIGIN and "no overseas warehouse" in only.reason
