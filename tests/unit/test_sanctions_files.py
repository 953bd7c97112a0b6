"""The sanctions list readers on the real files shipped in data/sanctions, and on broken copies."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from services.compliance.adapters.sanctions_files import CountryNames, read_bis, read_ofac, read_un
from services.compliance.domain.sanctions import Identifier, PartyType

DATA = Path(__file__).resolve().parents[2] / "data"
SANCTIONS = DATA / "sanctions"


@pytest.fixture(scope="module")
def countries() -> CountryNames:
    return CountryNames.from_file(DATA / "countries" / "country-codes.csv")


def test_ofac_sdn_with_aliases_addresses_and_remarks(countries: CountryNames) -> None:
    parsed = read_ofac(SANCTIONS / "ofac_bench_sdn.csv", countries)
    assert len(parsed.entries) == 8976
    assert (parsed.published_on, parsed.date_basis) == ("", "not stated in OFAC's legacy CSV files")
    by_id = {e.entry_id: e for e in parsed.entries}
    bank = by_id["306"]
    assert [(n.name, n.is_alias) for n in bank.names] == [
        ("BANCO NACIONAL DE CUBA", False),
        ("NATIONAL BANK OF CUBA", True),
    ]
    assert (bank.party_type, bank.programs) == (PartyType.COMPANY, ("CUBA",))
    assert "CH" in bank.countries  # its Zurich address, from the add file
    zawahiri = by_id["2676"]
    assert zawahiri.party_type is PartyType.PERSON and "1951-06-19" in zawahiri.dates_of_birth
    assert Identifier("passport", "1084010") in zawahiri.identifiers
    assert Identifier("imo", "9187629") in by_id["15036"].identifiers and by_id["15036"].party_type is PartyType.VESSEL
    assert sum(len(e.names) - 1 for e in parsed.entries) == 11910  # every alt.csv row is an alias


def test_un_consolidated_individuals_and_entities(countries: CountryNames) -> None:
    parsed = read_un(SANCTIONS / "un_consolidated.xml", countries)
    assert (parsed.published_on, parsed.date_basis) == ("2026-02-27", "the list's dateGenerated attribute")
    people = [e for e in parsed.entries if e.party_type is PartyType.PERSON]
    assert (len(people), len(parsed.entries) - len(people)) == (730, 273)
    by_id = {e.entry_id: e for e in parsed.entries}
    saddam = by_id["IQi.001"]
    assert saddam.primary_name == "SADDAM HUSSEIN AL-TIKRITI"
    assert "صدام حسين التكريتي" in [n.name for n in saddam.names]  # original script, as an alias
    assert [n.weak for n in saddam.names if n.name == "Abu Ali"] == [True]  # UN quality "Low"
    assert (saddam.dates_of_birth, saddam.countries) == (("1937-04-28",), ("IQ",))
    assert by_id["CDi.001"].countries == ("CD", "RW") and by_id["CDi.001"].dates_of_birth == ("1971",)
    assert Identifier("national_id", "1-78-09-44621-80") in by_id["CDi.019"].identifiers


def test_bis_denied_persons(countries: CountryNames) -> None:
    parsed = read_bis(SANCTIONS / "bis_dpl.txt", date(2026, 12, 1))
    assert len(parsed.entries) == 579  # 581 rows, two of them repeated verbatim
    # Rows dated 2922 and 3017 are typos in the source; they are not the list's date.
    assert parsed.published_on == "2022-09-02"
    aaron = next(e for e in parsed.entries if e.primary_name == "AARON ABRAHAM VILLA")
    assert aaron.programs == ("DPL",) and aaron.extra["effective_date"] == "08/24/2022"
    assert len({e.entry_id for e in parsed.entries}) == 579


def test_a_shifted_ofac_row_fails_naming_the_file_and_line(tmp_path: Path, countries: CountryNames) -> None:
    for name in ("ofac_bench_sdn.csv", "ofac_bench_alt.csv", "ofac_bench_add.csv"):
        shutil.copy(SANCTIONS / name, tmp_path / name)
    with (tmp_path / "ofac_bench_alt.csv").open("a") as handle:
        handle.write('36,99,"aka","EXTRA CELL",-0-,surplus\n')
    with pytest.raises(ValueError, match=r"ofac_bench_alt.csv: line 11911 has 6 cells, expected 5"):
        read_ofac(tmp_path / "ofac_bench_sdn.csv", countries)


def test_a_missing_ofac_companion_is_named(tmp_path: Path, countries: CountryNames) -> None:
    shutil.copy(SANCTIONS / "ofac_bench_sdn.csv", tmp_path / "ofac_bench_sdn.csv")
    with pytest.raises(FileNotFoundError, match=r"ofac_bench_alt\.csv must sit beside"):
        read_ofac(tmp_path / "ofac_bench_sdn.csv", countries)


def test_truncated_un_xml_fails(tmp_path: Path, countries: CountryNames) -> None:
    broken = tmp_path / "un_consolidated.xml"
    broken.write_bytes((SANCTIONS / "un_consolidated.xml").read_bytes()[:50_000])
    with pytest.raises(ValueError, match=r"un_consolidated\.xml: not well-formed XML"):
        read_un(broken, countries)


def test_bis_without_its_columns_fails(tmp_path: Path) -> None:
    broken = tmp_path / "bis_dpl.txt"
    broken.write_text('"Name"\t"City"\n"SOMEONE"\t"X"\n')
    with pytest.raises(ValueError, match="missing column"):
        read_bis(broken, date(2026, 12, 1))
