"""Readers for the sanctions list files under data/sanctions/ (sources and terms: data/README.md).

Each reader returns the entries and what the file says about its own date. A file that does not have
the expected shape raises ValueError naming the file and line, so its import fails and changes nothing.

- OFAC SDN, legacy CSV (no header): sdn (ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign,
  Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks), alt (ent_num, alt_num, alt_type, alt_name,
  alt_remarks), add (ent_num, add_num, address, city/state/postal, country, add_remarks); `-0-` = empty.
  Dates of birth, nationalities, passports, national ids and IMO numbers are in Remarks.
- UN Security Council consolidated list, XML (sc-sanctions.xsd): INDIVIDUALS and ENTITIES with aliases
  (QUALITY Good / a.k.a. / Low / f.k.a.), dates of birth, nationality, documents.
- BIS Denied Persons List: tab-separated, quoted, with a header; no entry id of its own.
"""

from __future__ import annotations

import csv
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from services.compliance.domain import names
from services.compliance.domain.sanctions import EntryName, Identifier, PartyType, SanctionsEntry

OFAC_ALT = "ofac_bench_alt.csv"
OFAC_ADD = "ofac_bench_add.csv"
_EMPTY = "-0-"
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}


@dataclass(frozen=True)
class ParsedList:
    entries: list[SanctionsEntry]
    published_on: str  # YYYY-MM-DD or ""
    date_basis: str


class CountryNames:
    """Country names as the lists write them -> ISO 3166-1 alpha-2, from data/countries/country-codes.csv.

    Unknown names are dropped from an entry's countries (they stay in its remarks): a wrong code would
    make the country adjustment lower a true match's score.
    """

    # How OFAC and the UN write names that the ISO/UN short names spell otherwise.
    EXTRA = {
        "iran": "IR",
        "russia": "RU",
        "syria": "SY",
        "korea north": "KP",
        "north korea": "KP",
        "korea south": "KR",
        "south korea": "KR",
        "democratic people s republic of korea": "KP",
        "burma": "MM",
        "venezuela": "VE",
        "bolivia": "BO",
        "tanzania": "TZ",
        "united republic of tanzania": "TZ",
        "congo democratic republic of the": "CD",
        "democratic republic of the congo": "CD",
        "congo republic of the": "CG",
        "cote d ivoire": "CI",
        "laos": "LA",
        "moldova": "MD",
        "vietnam": "VN",
        "viet nam": "VN",
        "united kingdom": "GB",
        "uk": "GB",
        "united states": "US",
        "usa": "US",
        "west bank": "PS",
        "gaza": "PS",
        "palestinian": "PS",
        "turkey": "TR",
        "turkiye": "TR",
        "kosovo": "XK",
        "taiwan": "TW",
        "macau": "MO",
        "hong kong": "HK",
        "czech republic": "CZ",
        "the netherlands": "NL",
        "netherlands": "NL",
    }

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self._codes = set(mapping.values())
        self._seen: dict[str, str] = {}

    @classmethod
    def from_file(cls, path: Path) -> CountryNames:
        mapping: dict[str, str] = {}
        if path.is_file():
            with path.open(encoding="utf-8-sig", newline="") as handle:
                for row in csv.DictReader(handle):
                    code = (row.get("ISO3166-1-Alpha-2") or "").strip()
                    if len(code) != 2:
                        continue
                    for column in ("official_name_en", "UNTERM English Short", "CLDR display name"):
                        key = names.fold(row.get(column) or "")
                        if key:
                            mapping.setdefault(key, code)
        mapping.update(cls.EXTRA)
        return cls(mapping)

    def code(self, name: str) -> str:
        if name in self._seen:
            return self._seen[name]
        key = names.fold(name)
        if len(key) == 2 and key.upper() in self._codes:
            code = key.upper()
        else:
            code = self.mapping.get(key) or self.mapping.get(key.removeprefix("the ")) or ""
        self._seen[name] = code
        return code

    def codes(self, values: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        for value in values:
            code = self.code(value)
            if code and code not in out:
                out.append(code)
        return tuple(out)


def _cell(value: str) -> str:
    value = value.strip()
    return "" if value == _EMPTY else value


def _read_rows(path: Path, width: int) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    with path.open(encoding="utf-8", errors="strict", newline="") as handle:
        reader = csv.reader(handle)
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip("\x1a \r\n")):
                continue  # OFAC ends its files with a DOS end-of-file mark on a line of its own
            if len(cells) != width:
                raise ValueError(f"{path.name}: line {reader.line_num} has {len(cells)} cells, expected {width}")
            rows.append((reader.line_num, [_cell(c) for c in cells]))
    return rows


_DOB = re.compile(r"\bDOB (?:circa |c\. )?([0-9]{2} [A-Z][a-z]{2} [0-9]{4}|[A-Z][a-z]{2} [0-9]{4}|[0-9]{4})")
_DOB_RANGE = re.compile(r"\bDOB (?:circa )?([0-9]{4}) to ([0-9]{4})")
_NATIONALITY = re.compile(r"\b(?:nationality|citizen) ([^;().]+)")
_IDENTIFIERS = (
    ("passport", re.compile(r"\bPassport(?: No\.)? ([A-Z0-9][A-Z0-9 \-/]{3,20}[A-Z0-9])")),
    ("national_id", re.compile(r"\bNational ID No\. ([A-Z0-9][A-Z0-9 \-/.]{3,24}[A-Z0-9])")),
    ("national_id", re.compile(r"\bCedula No\. ([A-Z0-9][A-Z0-9 \-/.]{3,24}[A-Z0-9])")),
    ("imo", re.compile(r"\bIMO ([0-9]{7})\b")),
    ("tax_id", re.compile(r"\bTax ID No\. ([A-Z0-9][A-Z0-9 \-/.]{3,24}[A-Z0-9])")),
    ("registration", re.compile(r"\bRegistration ID ([A-Z0-9][A-Z0-9 \-/.]{3,24}[A-Z0-9])")),
)


def _ofac_date(text: str) -> str:
    parts = text.split()
    if len(parts) == 3:
        return f"{parts[2]}-{_MONTHS[parts[1]]:02d}-{int(parts[0]):02d}"
    if len(parts) == 2:
        return f"{parts[1]}-{_MONTHS[parts[0]]:02d}"
    return parts[0]


def _ofac_dobs(remarks: str) -> tuple[str, ...]:
    found: list[str] = []
    for low, high in _DOB_RANGE.findall(remarks):
        found.extend(str(y) for y in range(int(low), min(int(high), int(low) + 15) + 1))
    for match in _DOB.findall(remarks):
        value = _ofac_date(match)
        if value not in found:
            found.append(value)
    return tuple(found)


def _ofac_identifiers(remarks: str) -> tuple[Identifier, ...]:
    out: list[Identifier] = []
    for kind, pattern in _IDENTIFIERS:
        for value in pattern.findall(remarks):
            identifier = Identifier(kind, value.strip())
            if identifier not in out:
                out.append(identifier)
    return tuple(out)


_OFAC_TYPES = {"individual": PartyType.PERSON, "vessel": PartyType.VESSEL, "aircraft": PartyType.AIRCRAFT}


def read_ofac(path: Path, countries: CountryNames) -> ParsedList:
    """sdn.csv with its alt (aliases) and add (addresses) files beside it."""
    alt_path, add_path = path.with_name(OFAC_ALT), path.with_name(OFAC_ADD)
    for companion in (alt_path, add_path):
        if not companion.is_file():
            raise FileNotFoundError(f"ofac_sdn: {companion.name} must sit beside {path.name}")
    aliases: dict[str, list[EntryName]] = {}
    for _, (ent, _num, kind, alt_name, _remarks) in _read_rows(alt_path, 5):
        if alt_name:
            # OFAC's "nka"/"fka" are names the party is or was known by: as strong as an a.k.a.
            aliases.setdefault(ent, []).append(EntryName(alt_name, True, weak=kind.lower() == "weak"))
    address_countries: dict[str, list[str]] = {}
    for _, (ent, _num, _street, _city, country, _remarks) in _read_rows(add_path, 6):
        if country:
            address_countries.setdefault(ent, []).append(country)
    entries: list[SanctionsEntry] = []
    for line, cells in _read_rows(path, 12):
        ent, name, kind, program, title, call_sign, vess_type, _t, _g, vess_flag, vess_owner, remarks = cells
        if not ent.isdigit() or not name:
            raise ValueError(f"{path.name}: line {line}: entry number {ent!r} or name {name!r} is not valid")
        nationality = [m.strip() for m in _NATIONALITY.findall(remarks)]
        listed_countries = countries.codes([*nationality, *address_countries.get(ent, []), vess_flag])
        extra = {k: v for k, v in (("title", title), ("call_sign", call_sign), ("vessel_type", vess_type)) if v}
        if vess_owner:
            extra["vessel_owner"] = vess_owner
        entries.append(
            SanctionsEntry(
                list_name="ofac_sdn",
                entry_id=ent,
                party_type=_OFAC_TYPES.get(kind.lower(), PartyType.COMPANY if not kind else PartyType.UNKNOWN),
                names=(EntryName(name, False), *aliases.get(ent, [])),
                programs=tuple(p.strip(" []") for p in program.split("] [") if p.strip(" []")),
                countries=listed_countries,
                dates_of_birth=_ofac_dobs(remarks),
                identifiers=_ofac_identifiers(remarks),
                remarks=remarks[:2000],
                extra=extra,
            )
        )
    if not entries:
        raise ValueError(f"{path.name}: no entries")
    # The legacy CSV carries no publication date, and the dates in remarks are birth, passport-expiry and
    # designation dates, not the list's: the date is reported as unknown rather than guessed.
    return ParsedList(entries, "", "not stated in OFAC's legacy CSV files")


def _text(element: ET.Element | None, tag: str) -> str:
    if element is None:
        return ""
    found = element.find(tag)
    return (found.text or "").strip() if found is not None and found.text else ""


def _values(element: ET.Element, tag: str) -> list[str]:
    return [v.text.strip() for v in element.findall(f"{tag}/VALUE") if v.text and v.text.strip()]


_UN_DOCUMENT_TYPES = {"passport": "passport", "national identification number": "national_id"}


def _un_dobs(record: ET.Element) -> tuple[str, ...]:
    found: list[str] = []
    for dob in record.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        if exact := _text(dob, "DATE"):
            found.append(exact[:10])
        elif year := _text(dob, "YEAR"):
            found.append(year)
        low, high = _text(dob, "FROM_YEAR"), _text(dob, "TO_YEAR")
        if low.isdigit() and high.isdigit():
            found.extend(str(y) for y in range(int(low), min(int(high), int(low) + 15) + 1))
    return tuple(dict.fromkeys(found))


def _un_record(record: ET.Element, person: bool, countries: CountryNames) -> SanctionsEntry:
    reference = _text(record, "REFERENCE_NUMBER")
    parts = [_text(record, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    primary = " ".join(p for p in parts if p)
    if not reference or not primary:
        raise ValueError(f"un_consolidated: a record (DATAID {_text(record, 'DATAID')}) lacks a reference or name")
    entry_names = [EntryName(primary, False)]
    if original := _text(record, "NAME_ORIGINAL_SCRIPT"):
        entry_names.append(EntryName(original, True))
    for alias in record.findall("INDIVIDUAL_ALIAS" if person else "ENTITY_ALIAS"):
        alias_name = _text(alias, "ALIAS_NAME")
        if alias_name:
            entry_names.append(EntryName(alias_name, True, weak=_text(alias, "QUALITY").lower() == "low"))
    country_names = [*_values(record, "NATIONALITY")]
    for address in record.findall("INDIVIDUAL_ADDRESS" if person else "ENTITY_ADDRESS"):
        if country := _text(address, "COUNTRY"):
            country_names.append(country)
    identifiers: list[Identifier] = []
    for document in record.findall("INDIVIDUAL_DOCUMENT"):
        number = _text(document, "NUMBER")
        if number:
            kind = _text(document, "TYPE_OF_DOCUMENT").lower()
            identifiers.append(Identifier(_UN_DOCUMENT_TYPES.get(kind, kind.replace(" ", "_")), number))
    return SanctionsEntry(
        list_name="un_consolidated",
        entry_id=reference,
        party_type=PartyType.PERSON if person else PartyType.COMPANY,
        names=tuple(entry_names),
        programs=tuple(p for p in (_text(record, "UN_LIST_TYPE"),) if p),
        countries=countries.codes(country_names),
        dates_of_birth=_un_dobs(record) if person else (),
        identifiers=tuple(identifiers),
        remarks=_text(record, "COMMENTS1")[:2000],
        extra={"listed_on": _text(record, "LISTED_ON")},
    )


def read_un(path: Path, countries: CountryNames) -> ParsedList:
    try:
        root = ET.parse(path).getroot()  # noqa: S314
    except ET.ParseError as error:
        raise ValueError(f"{path.name}: not well-formed XML ({error})") from None
    if root.tag != "CONSOLIDATED_LIST":
        raise ValueError(f"{path.name}: root element is {root.tag!r}, expected CONSOLIDATED_LIST")
    entries = [_un_record(r, True, countries) for r in root.iterfind("INDIVIDUALS/INDIVIDUAL")]
    entries += [_un_record(r, False, countries) for r in root.iterfind("ENTITIES/ENTITY")]
    if not entries:
        raise ValueError(f"{path.name}: no INDIVIDUAL or ENTITY records")
    generated = root.get("dateGenerated", "")
    published = ""
    if generated:
        try:
            published = datetime.fromisoformat(generated.replace("Z", "+00:00")).date().isoformat()
        except ValueError:
            raise ValueError(f"{path.name}: dateGenerated {generated!r} is not a timestamp") from None
    return ParsedList(entries, published, "the list's dateGenerated attribute" if published else "not in the file")


BIS_COLUMNS = ("Name", "Street_Address", "City", "State", "Country", "Postal_Code", "Effective_Date",
               "Expiration_Date", "Standard_Order", "Last_Update", "Action", "FR_Citation")  # fmt: skip


def read_bis(path: Path, today: date) -> ParsedList:
    entries: list[SanctionsEntry] = []
    latest = ""
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, [])
        missing = [c for c in BIS_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(header):
                raise ValueError(
                    f"{path.name}: line {reader.line_num} has {len(cells)} cells where the header has {len(header)}"
                )
            row = dict(zip(header, (c.strip() for c in cells), strict=True))
            name = row["Name"]
            if not name:
                raise ValueError(f"{path.name}: line {reader.line_num} has no Name")
            updated = row["Last_Update"]
            # Some rows carry typos such as 2922-09-01: a date after the import day is not a publication date.
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", updated) and latest < updated <= today.isoformat():
                latest = updated
            # BIS gives no id: the row's name, address and order date identify it across versions.
            key = "|".join(row[c] for c in ("Name", "Street_Address", "City", "Country", "Effective_Date"))
            entry_id = "DPL-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()
            if entry_id in seen:
                continue
            seen.add(entry_id)
            country = row["Country"].upper()
            entries.append(
                SanctionsEntry(
                    list_name="bis_dpl",
                    entry_id=entry_id,
                    party_type=PartyType.UNKNOWN,  # the DPL lists persons and firms without saying which
                    names=(EntryName(name, False),),
                    programs=("DPL",),
                    countries=(country,) if len(country) == 2 else (),
                    remarks="; ".join(f"{c}: {row[c]}" for c in ("Action", "FR_Citation", "City") if row[c]),
                    extra={"effective_date": row["Effective_Date"], "expiration_date": row["Expiration_Date"]},
                )
            )
    if not entries:
        raise ValueError(f"{path.name}: no entries")
    basis = "the latest Last_Update in the file (the DPL states no publication date)" if latest else "not in the file"
    return ParsedList(entries, latest, basis)
