"""The kernel's one-field request helpers: a bad field raises at once, naming it, with every violation."""

from __future__ import annotations

import pytest

from services.shared import codes
from services.shared import request_fields as fields
from services.shared.errors import CodeCheckFailed, NotFound, ValidationError, Violations, found_or_raise

PAYOUT = codes.generate("PY", "E")


def test_one_code_answers_the_normalised_code() -> None:
    assert fields.one_code(f" {PAYOUT.lower()} ", "payout_code", "PY") == PAYOUT


@pytest.mark.parametrize("value", ["", "PYXX", codes.generate("QT", "E")])
def test_one_code_names_the_field_of_a_bad_code(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        fields.one_code(value, "payout_code", "PY")
    assert [v.field for v in refused.value.violations] == ["payout_code"]


def test_keyed_code_reports_a_missing_request_id_and_a_bad_code_together() -> None:
    with pytest.raises(ValidationError) as refused:
        fields.keyed_code("", "", "collection_code", "PY")
    assert [v.field for v in refused.value.violations] == ["request_id", "collection_code"]


def test_keyed_code_keeps_the_most_specific_reason() -> None:
    damaged = PAYOUT[:-1] + ("0" if PAYOUT[-1] != "0" else "1")
    with pytest.raises(CodeCheckFailed):
        fields.keyed_code("req-1", damaged, "payout_code", "PY")


def test_parsed_runs_one_field_parser_and_raises_what_it_found() -> None:
    def positive(value: str, violations: Violations) -> int:
        if int(value) <= 0:
            violations.add("count", "must be positive")
        return int(value)

    assert fields.parsed(positive, "3") == 3
    with pytest.raises(ValidationError) as refused:
        fields.parsed(positive, "0")
    assert refused.value.violations[0].field == "count"


def test_found_or_raise_is_the_value_or_not_found_naming_the_field() -> None:
    assert found_or_raise("row", "no payout", field="payout_code") == "row"
    with pytest.raises(NotFound) as missing:
        found_or_raise(None, "no payout 'PY1'", field="payout_code")
    assert [(v.field, v.description) for v in missing.value.violations] == [("payout_code", "no payout 'PY1'")]
