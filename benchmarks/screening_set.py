# ruff: noqa: RUF001, SIM905  (Cyrillic letters are the point of the table; word lists read best as text)
"""A labelled screening set derived from the shipped lists themselves (seeded, reproducible).

Positive classes, each a list entry's name or strong alias changed the way real queries differ from it
(expected: the entry is among the hits at REVIEW or BLOCK):
- `transliteration`: a name part respelled as another romanisation would write it, from the variant table
  (Mohammed -> Muhamad, Husayn -> Hussein, Sergey -> Sergei, Chol -> Cheol) or by a generic rule that no
  table holds (a doubled or undoubled consonant, ou/u, ee/i, kh/h, q/k, -iy/-y, "Abd al-X" -> "Abdul X").
- `short_typo`: a name of two or three words with one letter dropped, doubled, swapped or wrong.
- `legal_form`: a company name whose legal form is written out, abbreviated, dropped or added
  (Ltda/Limitada, Ltd/Limited, LLC/Limited Liability Company, OOO written out).
- `reorder`: the words in another order (surname first, reversed).
- `honorific`: a title or honorific added (Mr., Sheikh, Haji, Mullah, General, Dr.).
- `original_script`: the UN list's Arabic or Cyrillic original-script name, or a Russian, Ukrainian or
  Belarusian name of a Latin-only entry written in Cyrillic (a query in one script, the entry in another).

Negative classes (expected: CLEAR): full names built from common tokens: Arabic, Russian, Chinese and
Western personal names, Chinese and Western trading companies. A negative is kept only when no list name
or alias holds all its words or is held in it (words compared after normalisation and with variant
spellings folded together, so "Mohamed Hassan" is dropped when "Muhammad Hasan Ali" is listed), and no
list name scores >= 92 against it on rapidfuzz's token sort ratio: the negatives are really not listed.

Halves: a positive falls into "tune" or "held_out" by a hash of its entry's list and id (every variation
of one entry is in the same half), a negative by a hash of its text. Thresholds, weights and the variant
table were tuned on "tune" only; the figures to report are "held_out".
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from services.compliance.domain import names
from services.compliance.domain.matching import Query
from services.compliance.domain.name_variants import NameVariants
from services.compliance.domain.sanctions import PartyType, SanctionsEntry

POSITIVE_CLASSES = ("transliteration", "short_typo", "legal_form", "reorder", "honorific", "original_script")
NEGATIVE_CLASSES = (
    "arabic_person",
    "russian_person",
    "chinese_person",
    "western_person",
    "chinese_company",
    "western_company",
)


def half_of(key: str) -> str:
    return "tune" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "held_out"


@dataclass(frozen=True)
class Case:
    query: Query
    expected: tuple[str, str] | None  # (list_name, entry_id) for a positive, None for a negative
    kind: str
    source: str = ""  # the listed name a positive was derived from

    @property
    def half(self) -> str:
        if self.expected is not None:
            return half_of(f"{self.expected[0]}:{self.expected[1]}")
        return half_of(f"{self.kind}|{self.query.name}")


HONORIFICS = ("Mr.", "Dr.", "Sheikh", "Haji", "Mullah", "General", "Maulvi", "Colonel", "Hajji", "Prof.")
# (short form, written-out form) as the lists and merchants write them
LEGAL_FORMS = (
    ("LTDA", "LIMITADA"),
    ("LTD", "LIMITED"),
    ("CO., LTD.", "COMPANY LIMITED"),
    ("LLC", "LIMITED LIABILITY COMPANY"),
    ("CO.", "COMPANY"),
    ("CORP.", "CORPORATION"),
    ("INC.", "INCORPORATED"),
    ("S.A.", "SOCIEDAD ANONIMA"),
    ("S.R.L.", "SOCIETA A RESPONSABILITA LIMITATA"),
    ("GMBH", "GESELLSCHAFT MIT BESCHRANKTER HAFTUNG"),
    ("OOO", "OBSHCHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU"),
    ("JSC", "JOINT STOCK COMPANY"),
    ("OAO", "OTKRYTOE AKTSIONERNOE OBSHCHESTVO"),
    ("ZAO", "ZAKRYTOE AKTSIONERNOE OBSHCHESTVO"),
)
_CYRILLIC = [
    ("shch", "щ"), ("yo", "ё"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"),
    ("ya", "я"), ("ye", "е"), ("iy", "ий"), ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"),
    ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"),
    ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"),
]  # fmt: skip
_SLAVIC_ENDINGS = ("ovich", "evich", "ovna", "evna", "enko", "skiy", "ova", "ov", "ev", "in")
# Respellings that no variant table needs to hold: the edit allowance and phonetic keys must carry them.
_GENERIC_RESPELLINGS = (
    ("ou", "u"), ("oo", "u"), ("ee", "i"), ("kh", "h"), ("q", "k"), ("iy", "y"), ("ie", "i"), ("dh", "z"),
    ("ss", "s"), ("ll", "l"), ("mm", "m"), ("tt", "t"), ("ff", "f"), ("u", "ou"), ("ai", "ay"), ("ei", "ey"),
)  # fmt: skip

ARABIC_GIVEN = (
    "Khaled Ahmed Omar Youssef Karim Samir Tarek Nabil Walid Hassan Hamid Rachid Mehdi Amine Bilal Sami Adel "
    "Mounir Jamal Fatima Aisha Leila Nadia Samira Yasmin Mariam Hana Salma Amira Rania Zineb"
).split()
ARABIC_FAMILY = (
    "Bennani Haddad Khoury Farouk Amrani Tazi Alaoui Chraibi Benjelloun Darwish Hamdan Kassab Zidane Boutros "
    "Hakimi Berrada Sefrioui Lahlou Naciri Ziani Belkacem Bouazza Sabbagh Nassar Qureshi Siddiqui Malik Sheikhani"
).split()
RUSSIAN_GIVEN = "Viktor Yuri Ivan Dmitry Sergei Andrei Oleg Pavel Nikolai Alexei Igor Anton Boris Kirill Roman".split()
RUSSIAN_FEMALE = "Olga Tatiana Elena Irina Natalia Anna Maria Svetlana Ekaterina Daria Polina Yulia".split()
RUSSIAN_FAMILY = (
    "Sokolov Smirnov Kuznetsov Popov Vasiliev Novikov Fedorov Morozov Volkov Lebedev Kozlov Pavlov Semenov "
    "Egorov Orlov Nikitin Zakharov Makarov Stepanov Sorokin Belov Tarasov Belyaev Komarov"
).split()
CHINESE_SURNAMES = "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao".split()
CHINESE_GIVEN = (
    "Wei Fang Na Xiuying Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Juan Tao Ming Chao Xiulan Xia Ping Gang "
    "Hui Hua Yun Bin Ling Hao Yu Xin Jian Dong Hong Kai Lan Qing Rui Shu Ting"
).split()
WESTERN_FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Paul "
    "Emma Oliver Sophie Lukas Anna Pierre Marie Hans Julia Carlos Lucia Marco Giulia"
).split()
WESTERN_LAST = (
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin "
    "Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott Green Baker Adams Nelson Hill "
    "Mueller Schmidt Schneider Fischer Weber Meyer Dubois Laurent Rossi Russo Bianchi Garcia Lopez"
).split()
CITIES = "Shenzhen Guangzhou Yiwu Ningbo Hangzhou Shanghai Dongguan Xiamen Suzhou Qingdao Foshan Tianjin".split()
BRANDS = (
    "Huaxin Jiayi Hengtai Xinda Ruifeng Tianyi Meida Haoyun Kangda Jinhui Baolong Hongxing Shengda Yuanhang "
    "Anxin Fuda Lianhe Zhongtian Wanjia Oriental"
).split()
TRADES = (
    "Trading", "Import and Export", "Electronics", "Technology", "Textile", "Industrial", "Supply Chain",
    "Logistics", "Packaging", "Houseware", "Toys", "Garments",
)  # fmt: skip
COMPANY_FORMS = ("Co., Ltd.", "Co. Ltd", "Limited", "Trading Co.", "Industry Co., Ltd.")
WESTERN_PREFIXES = (
    "Acme Northwind Blue River Sunrise Alpine Harbor Green Leaf Silver Line Maple Bright Summit Oak".split()
)
WESTERN_SECTORS = (
    "Office Supplies", "Foods", "Home Goods", "Outdoor Gear", "Freight Partners", "Organics", "Logistics",
    "Furniture", "Kids Toys", "Pet Supplies", "Garden Centre", "Bakery", "Print Shop", "Auto Parts",
)  # fmt: skip
WESTERN_SUFFIXES = ("LTD", "LLC", "Inc.", "GmbH", "Limited", "Corp.", "S.A.")


def _typo(rng: random.Random, token: str) -> str:
    i = rng.randrange(1, len(token) - 1) if len(token) > 2 else len(token) - 1
    op = rng.choice(("swap", "drop", "double", "replace"))
    if op == "swap" and i + 1 < len(token):
        return token[:i] + token[i + 1] + token[i] + token[i + 2 :]
    if op == "drop":
        return token[:i] + token[i + 1 :]
    if op == "double":
        return token[:i] + token[i] + token[i:]
    letters = [c for c in "abcdefghiklmnoprstuvz" if c != token[i].lower()]
    new = rng.choice(letters)
    return token[:i] + (new.upper() if token[i].isupper() else new) + token[i + 1 :]


def _cyrillic(text: str) -> str:
    out, i, low = [], 0, text.lower()
    while i < len(low):
        for latin, cyr in _CYRILLIC:
            if low.startswith(latin, i):
                out.append(cyr)
                i += len(latin)
                break
        else:
            out.append(low[i])
            i += 1
    return "".join(out).title()


def _script(text: str) -> str:
    for ch in text:
        if ch.isalpha() and not ch.isascii():
            name = unicodedata.name(ch, "")
            for script in ("ARABIC", "CYRILLIC", "CJK", "HANGUL"):
                if name.startswith(script):
                    return script.lower()
    return "latin"


def _strong_names(entry: SanctionsEntry) -> list[str]:
    return [
        n.name
        for n in entry.names
        if not n.weak and len("".join(names.tokens(n.name))) >= 6 and n.name.isascii() and '"' not in n.name
    ]


def _respell(rng: random.Random, words: list[str], variants: NameVariants) -> str | None:
    text = " ".join(words)
    listed = [i for i, w in enumerate(words) if len(variants.spellings(w.lower().strip(",.-"))) > 1]
    if listed and rng.random() < 0.7:
        i = rng.choice(listed)
        word = words[i].lower().strip(",.-")
        other = rng.choice([s for s in variants.spellings(word) if s != word])
        words = [*words]
        words[i] = other.capitalize() + words[i][len(word) :] if words[i].lower().startswith(word) else other
        return " ".join(words)
    if re.search(r"\bABD AL[- ]", text, re.IGNORECASE):
        return re.sub(r"\bABD AL[- ]", rng.choice(("Abdul ", "Abdel ", "Abdul")), text, count=1, flags=re.IGNORECASE)
    rules = list(_GENERIC_RESPELLINGS)
    rng.shuffle(rules)
    for old, new in rules:
        spots = [i for i, w in enumerate(words) if len(w) >= 5 and old in w.lower()[1:]]
        if spots:
            i = rng.choice(spots)
            low = words[i].lower()
            at = low.index(old, 1)
            words = [*words]
            words[i] = words[i][:at] + new + words[i][at + len(old) :]
            return " ".join(words)
    return None


def _legal_form(rng: random.Random, name: str) -> str | None:
    upper = name.upper()
    for short, long in LEGAL_FORMS:
        for have, other in ((short, long), (long, short)):
            pattern = r"(?<![A-Z])" + re.escape(have).replace(r"\ ", r",?\s+") + r"(?![A-Z])"
            if re.search(pattern, upper):
                replacement = other if rng.random() < 0.75 else ""
                return re.sub(r"\s+", " ", re.sub(pattern, replacement, upper, count=1)).strip(" ,")
    short, long = rng.choice(LEGAL_FORMS)
    return f"{name.rstrip(' .,')} {rng.choice((short, long))}"


def positives(entries: Sequence[SanctionsEntry], variants: NameVariants, per_class: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    people = [e for e in entries if e.party_type == PartyType.PERSON and _strong_names(e)]
    companies = [e for e in entries if e.party_type == PartyType.COMPANY and _strong_names(e)]
    short = [e for e in entries if any(2 <= len(names.tokens(n)) <= 3 for n in _strong_names(e))]
    originals = [e for e in entries if any(_script(n.name) in ("arabic", "cyrillic") for n in e.names)]
    slavic = [
        e for e in people if any(w.lower().endswith(_SLAVIC_ENDINGS) for n in _strong_names(e) for w in n.split())
    ]

    def transliteration(entry: SanctionsEntry) -> str | None:
        return _respell(rng, rng.choice(_strong_names(entry)).replace(",", " ").split(), variants)

    def short_typo(entry: SanctionsEntry) -> str | None:
        name = rng.choice([n for n in _strong_names(entry) if 2 <= len(names.tokens(n)) <= 3])
        words = name.split()
        parts = set(names.tokens(name))
        # a typo in a name part, not in a legal form or title, which the normaliser drops anyway
        spots = [i for i, w in enumerate(words) if len(re.sub(r"\W", "", w)) >= 4 and set(names.tokens(w)) & parts]
        if not spots:
            return None
        i = rng.choice(spots)
        words[i] = _typo(rng, words[i])
        return " ".join(words)

    def legal_form(entry: SanctionsEntry) -> str | None:
        return _legal_form(rng, rng.choice(_strong_names(entry)))

    def reorder(entry: SanctionsEntry) -> str | None:
        words = rng.choice(_strong_names(entry)).replace(",", " ").split()
        if len(words) < 2:
            return None
        return " ".join(words[1:] + words[:1]) if rng.random() < 0.5 else " ".join(reversed(words))

    def honorific(entry: SanctionsEntry) -> str | None:
        return f"{rng.choice(HONORIFICS)} {rng.choice(_strong_names(entry)).replace(',', '')}"

    slavic_set, originals_set = set(map(id, slavic)), set(map(id, originals))
    makers: dict[str, tuple[Callable[[SanctionsEntry], str | None], list[SanctionsEntry]]] = {
        "transliteration": (transliteration, people),
        "short_typo": (short_typo, short),
        "legal_form": (legal_form, companies),
        "reorder": (reorder, people + companies),
        "honorific": (honorific, people),
        "original_script": (lambda entry: None, originals + slavic),
    }
    cases: list[Case] = []
    for kind in POSITIVE_CLASSES:
        make, pool = makers[kind]
        made: set[str] = set()
        attempts = 0
        while len(made) < per_class and attempts < per_class * 30:
            attempts += 1
            entry = rng.choice(pool)
            if kind == "original_script":
                text = original_script_for(entry, slavic_set, originals_set, rng)
            else:
                text = make(entry)
            if not text or text in made or not names.tokens(text):
                continue
            made.add(text)
            party = entry.party_type if entry.party_type in (PartyType.PERSON, PartyType.COMPANY) else PartyType.UNKNOWN
            cases.append(Case(Query(text, party), (entry.list_name, entry.entry_id), kind, entry.primary_name))
    return cases


def original_script_for(entry: SanctionsEntry, slavic: set[int], originals: set[int], rng: random.Random) -> str | None:
    """An Arabic or Cyrillic original-script name the list gives, or a Slavic Latin name in Cyrillic."""
    if id(entry) in slavic and (id(entry) not in originals or rng.random() < 0.5):
        candidates = [n for n in _strong_names(entry) if any(w.lower().endswith(_SLAVIC_ENDINGS) for w in n.split())]
        return _cyrillic(rng.choice(candidates).replace(",", " ")) if candidates else None
    scripts = [n.name for n in entry.names if _script(n.name) in ("arabic", "cyrillic")]
    return rng.choice(scripts) if scripts else None


class ListedNames:
    """The listed names' token sets with variant spellings folded, to prove a negative is not listed."""

    def __init__(self, entries: Sequence[SanctionsEntry], variants: NameVariants) -> None:
        self.variants = variants
        self.sets: list[frozenset[str]] = []
        self.by_token: dict[str, list[int]] = defaultdict(list)
        texts = set()
        for entry in entries:
            for n in entry.names:
                folded = self.fold(n.name)
                if not folded:
                    continue
                self.sets.append(folded)
                for token in folded:
                    self.by_token[token].append(len(self.sets) - 1)
                texts.add(" ".join(names.tokens(n.name)))
        self.texts = sorted(texts)

    def fold(self, text: str) -> frozenset[str]:
        return frozenset(self.variants.spellings(t)[0] for t in names.tokens(text))

    def listed(self, text: str) -> bool:
        query = self.fold(text)
        for token in query:
            for i in self.by_token.get(token, ()):
                listed = self.sets[i]
                if query <= listed or (len(listed) >= 2 and listed <= query):
                    return True
        found = process.extractOne(
            " ".join(names.tokens(text)), self.texts, scorer=fuzz.token_sort_ratio, score_cutoff=92
        )
        return found is not None


def negatives(listed: ListedNames, per_class: int, seed: int = 11) -> list[Case]:
    rng = random.Random(seed)

    def arabic_person() -> tuple[str, PartyType]:
        middle = f" {rng.choice(ARABIC_GIVEN)}" if rng.random() < 0.5 else ""
        return f"{rng.choice(ARABIC_GIVEN)}{middle} {rng.choice(ARABIC_FAMILY)}", PartyType.PERSON

    def russian_person() -> tuple[str, PartyType]:
        family = rng.choice(RUSSIAN_FAMILY)
        if rng.random() < 0.3:
            return f"{rng.choice(RUSSIAN_FEMALE)} {family}a", PartyType.PERSON
        middle = f" {rng.choice(RUSSIAN_GIVEN)}" if rng.random() < 0.4 else ""
        return f"{rng.choice(RUSSIAN_GIVEN)}{middle} {family}", PartyType.PERSON

    def chinese_person() -> tuple[str, PartyType]:
        given = rng.choice(CHINESE_GIVEN) + (rng.choice(CHINESE_GIVEN).lower() if rng.random() < 0.6 else "")
        return f"{rng.choice(CHINESE_SURNAMES)} {given}", PartyType.PERSON

    def western_person() -> tuple[str, PartyType]:
        return f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}", PartyType.PERSON

    def chinese_company() -> tuple[str, PartyType]:
        text = f"{rng.choice(CITIES)} {rng.choice(BRANDS)} {rng.choice(TRADES)} {rng.choice(COMPANY_FORMS)}"
        return text, PartyType.COMPANY

    def western_company() -> tuple[str, PartyType]:
        extra = rng.choice(("", " Brothers", " Partners", " Works", " Direct", " Express"))
        sector = rng.choice(WESTERN_SECTORS)
        return f"{rng.choice(WESTERN_PREFIXES)} {sector}{extra} {rng.choice(WESTERN_SUFFIXES)}", PartyType.COMPANY

    makers = {
        "arabic_person": arabic_person,
        "russian_person": russian_person,
        "chinese_person": chinese_person,
        "western_person": western_person,
        "chinese_company": chinese_company,
        "western_company": western_company,
    }
    cases: list[Case] = []
    seen: set[str] = set()
    for kind in NEGATIVE_CLASSES:
        made = 0
        attempts = 0
        while made < per_class and attempts < per_class * 50:
            attempts += 1
            text, party = makers[kind]()
            key = " ".join(sorted(names.tokens(text)))
            if key in seen or listed.listed(text):
                continue
            seen.add(key)
            made += 1
            cases.append(Case(Query(text, party), None, kind))
    return cases
