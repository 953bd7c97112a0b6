"""Reading rule packs: schema errors and cross checks name the pack file, the rule and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.compliance.adapters.rule_packs import read_packs
from services.compliance.domain.library import PackErrors, Reference
from tests.compliance_rules import FIXTURE_PACKS, SHIPPED_SCHEMA, entry, pack_document

SCHEMA = SHIPPED_SCHEMA
REFERENCE = Reference(
    hs_codes=frozenset({"85", "8517", "8518", "851822", "95", "61", "960321"}),
    countries=frozenset({"DE", "FR", "US", "GB", "CN", "SA", "AE"}),
    currencies=frozenset({"EUR", "USD", "GBP", "CNY"}),
)


def write(directory: Path, *documents: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for document in documents:
        (directory / f"{document['pack']}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    return directory


def problems(directory: Path) -> list[tuple[str, str, str, str]]:
    with pytest.raises(PackErrors) as error:
        read_packs(directory, REFERENCE, SCHEMA)
    return [(p.pack_file, p.rule_code, p.field, p.message) for p in error.value.problems]


def test_the_fixture_packs_load_with_typed_values() -> None:
    reference = Reference(
        hs_codes=frozenset({"85", "95", "8517", "8518"}),
        countries=REFERENCE.countries,
        currencies=REFERENCE.currencies,
    )
    rules, packs, digest = read_packs(FIXTURE_PACKS, reference, SCHEMA)
    assert packs == ["eu-test-safety", "eu-test-vat", "us-test-customs"]
    assert len(digest) == 64
    by_key = {r.key: r for r in rules}
    battery = by_key[("US-TEST-LI-BATTERY", 1)]
    assert [(c.attribute, c.op, c.value) for c in battery.conditions][1] == ("battery_wh", "gt", 100)
    minimis = by_key[("US-TEST-DE-MINIMIS", 1)]
    assert (str(minimis.effective_to), str(minimis.value_threshold.amount)) == ("2025-08-29", "800")  # type: ignore[union-attr]


def test_schema_errors_name_file_rule_and_field(tmp_path: Path) -> None:
    bad = entry("EU-BAD-ONE", severity="FATAL")
    del bad["title"]["zh-CN"]
    found = problems(write(tmp_path, pack_document("eu-bad", bad, entry("EU-OK-ONE"))))
    fields = {(f, c, fld) for f, c, fld, _ in found}
    assert ("eu-bad.yaml", "EU-BAD-ONE", "severity") in fields
    assert ("eu-bad.yaml", "EU-BAD-ONE", "title") in fields
    assert any("zh-CN" in message for *_, message in found)


def test_a_file_must_be_named_after_its_pack_and_be_yaml(tmp_path: Path) -> None:
    directory = write(tmp_path, pack_document("eu-one", entry("EU-ONE-A")))
    (directory / "eu-one.yaml").rename(directory / "other-name.yaml")
    (directory / "broken.yaml").write_text("pack: [unclosed", "utf-8")
    found = problems(directory)
    assert ("other-name.yaml", "", "pack") in {(f, c, fld) for f, c, fld, _ in found}
    assert any(f == "broken.yaml" and "not valid YAML" in m for f, _, _, m in found)


def test_duplicate_code_and_version_across_packs(tmp_path: Path) -> None:
    found = problems(
        write(tmp_path, pack_document("eu-a", entry("EU-DUP-X")), pack_document("eu-b", entry("EU-DUP-X")))
    )
    assert [(f, c, fld) for f, c, fld, _ in found] == [("eu-b.yaml", "EU-DUP-X", "version")]
    assert "eu-a.yaml" in found[0][3]


def test_two_versions_whose_periods_overlap(tmp_path: Path) -> None:
    first = entry("US-OVER-X", effective_from="2020-01-01", effective_to="2025-09-01")
    second = entry("US-OVER-X", version=2, effective_from="2025-08-29")
    found = problems(write(tmp_path, pack_document("us-a", first, second, jurisdiction="US")))
    assert [(c, fld) for _, c, fld, _ in found] == [("US-OVER-X", "effective_from")]
    assert "overlaps version 1" in found[0][3]
    open_ended = entry("US-OPEN-X")
    later = entry("US-OPEN-X", version=2, effective_from="2030-01-01")
    assert problems(write(tmp_path / "b", pack_document("us-b", open_ended, later, jurisdiction="US")))[0][2] == (
        "effective_from"
    )
    # back to back is not an overlap (effective_to is exclusive)
    fine = entry("US-SEQ-X", effective_to="2025-08-29"), entry("US-SEQ-X", version=2, effective_from="2025-08-29")
    read_packs(write(tmp_path / "c", pack_document("us-c", *fine, jurisdiction="US")), REFERENCE, SCHEMA)


def test_unknown_hs_prefix_country_currency_and_attribute(tmp_path: Path) -> None:
    bad = entry(
        "EU-UNKNOWN-X",
        hs_scope=["85", "9999"],
        destinations=["EU", "XK"],
        origins=["ZZ"],
        value_threshold={"op": "lte", "amount": "150", "currency": "EUQ"},
        conditions=[
            {"attribute": "wattage", "op": "gt", "value": 5},
            {"attribute": "battery_wh", "op": "gt", "value": "lots"},
        ],
    )
    found = {(c, fld) for _, c, fld, _ in problems(write(tmp_path, pack_document("eu-x", bad)))}
    assert ("EU-UNKNOWN-X", "conditions[0].attribute") in found
    assert ("EU-UNKNOWN-X", "conditions[1].value") in found
    bad2 = entry("EU-UNKNOWN-Y", hs_scope=["85", "9999"], destinations=["EU", "XK"], origins=["ZZ"],
                 value_threshold={"op": "lte", "amount": "150", "currency": "EUQ"})  # fmt: skip
    found = {(c, fld) for _, c, fld, _ in problems(write(tmp_path / "y", pack_document("eu-y", bad2)))}
    assert found == {
        ("EU-UNKNOWN-Y", "hs_scope[1]"),
        ("EU-UNKNOWN-Y", "destinations[1]"),
        ("EU-UNKNOWN-Y", "origins[0]"),
        ("EU-UNKNOWN-Y", "value_threshold.currency"),
    }


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        write(
            tmp_path,
            pack_document("eu-a", entry("EU-A-X", hs_scope=["9999"])),
            pack_document("eu-b", entry("EU-B-X", destinations=["QQ"])),
        )
    )
    assert {f for f, *_ in found} == {"eu-a.yaml", "eu-b.yaml"}
