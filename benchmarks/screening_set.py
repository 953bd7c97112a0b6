# ruff: noqa: RUF001, SIM905  (Cyrillic letters are the point of the table; word lists read best as text)
"""A labelled screening set derived from the loaded lists themselves (seeded, reproducible).

Positives: a name or strong alias of a list entry, changed the way real queries differ from the list:
one typo, words reordered, an honorific or a company legal form added or swapped, the punctuation and
case changed, the name written in Cyrillic (for Russian/Belarusian/Ukrainian names on the lists, by a
letter table) or in its original script where the UN list gives one, or given with the entry's date of
birth. Expected: the entry is among the hits.

Negatives: common Chinese and Western personal names and trading companies ("Shenzhen Huaxin Trading Co.,
Ltd.") composed from frequent parts. A negative is dropped when its normalised tokens equal those of any
list name or alias (then it IS on a list), or when any list name scores >= 95 on rapidfuzz's token sort
ratio against it, so the non-matches really are not on the lists. Expected: CLEAR.

Each case falls into half "tune" or "held_out" by a hash of its text: the matcher was tuned on "tune";
docs/benchmarks.md reports "held_out".
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from services.compliance.domain import names
from services.compliance.domain.matching import Query
from services.compliance.domain.sanctions import PartyType, SanctionsEntry


@dataclass(frozen=True)
class Case:
    query: Query
    expected: tuple[str, str] | None  # (list_name, entry_id) for a positive, None for a negative
    kind: str

    @property
    def half(self) -> str:
        digest = hashlib.sha256(f"{self.kind}|{self.query.name}|{self.expected}".encode()).digest()
        return "tune" if digest[0] % 2 == 0 else "held_out"


HONORIFICS = ("Mr.", "Dr.", "Sheikh", "Haji", "Mrs.", "General", "Mullah")
SUFFIXES = ("LTD", "Co., Ltd.", "LLC", "Corp.", "GmbH", "JSC", "OOO", "FZE", "Limited", "Inc.", "S.A.")
_CYRILLIC = [
    ("shch", "щ"), ("yo", "ё"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"),
    ("ya", "я"), ("ye", "е"), ("iy", "ий"), ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"),
    ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"),
    ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"),
]  # fmt: skip
_SLAVIC_ENDINGS = ("ovich", "evich", "ovna", "evna", "enko", "skiy", "ova", "ov", "ev", "in")

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


def _typo(rng: random.Random, token: str) -> str:
    if len(token) < 5:
        return token
    i = rng.randrange(1, len(token) - 1)
    op = rng.choice(("swap", "drop", "double", "replace"))
    if op == "swap":
        return token[:i] + token[i + 1] + token[i] + token[i + 2 :]
    if op == "drop":
        return token[:i] + token[i + 1 :]
    if op == "double":
        return token[:i] + token[i] + token[i:]
    vowels = "aeiou"
    swap = rng.choice([v for v in vowels if v != token[i].lower()]) if token[i].lower() in vowels else token[i]
    return token[:i] + swap + token[i + 1 :]


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


def _strong_names(entry: SanctionsEntry) -> list[str]:
    usable = []
    for n in entry.names:
        folded = names.tokens(n.name)
        if n.weak or len("".join(folded)) < 6 or not n.name.isascii():
            continue
        usable.append(n.name)
    return usable


def positives(entries: list[SanctionsEntry], count: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    pool = [e for e in entries if _strong_names(e)]
    cases: list[Case] = []
    kinds = ("typo", "reorder", "honorific_or_suffix", "punctuation_case", "transliteration", "with_dob")
    while len(cases) < count:
        entry = rng.choice(pool)
        name = rng.choice(_strong_names(entry))
        words = name.replace(",", " ").split()
        kind = kinds[len(cases) % len(kinds)]
        dob = ""
        party = entry.party_type if entry.party_type != PartyType.AIRCRAFT else PartyType.UNKNOWN
        if kind == "typo":
            j = max(range(len(words)), key=lambda k: len(words[k]))
            words[j] = _typo(rng, words[j])
            text = " ".join(words)
        elif kind == "reorder":
            if len(words) < 2:
                continue
            text = " ".join(words[1:] + words[:1]) if rng.random() < 0.5 else " ".join(reversed(words))
        elif kind == "honorific_or_suffix":
            if entry.party_type == PartyType.PERSON:
                text = f"{rng.choice(HONORIFICS)} {' '.join(words)}"
            elif entry.party_type in (PartyType.COMPANY, PartyType.UNKNOWN):
                base = [w for w in words if names.tokens(w) and names.tokens(w)[0] not in names.COMPANY_SUFFIXES]
                text = f"{' '.join(base or words)} {rng.choice(SUFFIXES)}"
            else:
                continue
        elif kind == "punctuation_case":
            text = "".join(c for c in " ".join(words) if c.isalnum() or c == " ").lower()
            if rng.random() < 0.5:
                text = text.upper().replace(" ", "-", 1)
        elif kind == "transliteration":
            original = [n.name for n in entry.names if any(ch.isalpha() and not ch.isascii() for ch in n.name)]
            slavic = any(w.lower().endswith(_SLAVIC_ENDINGS) for w in words) and entry.party_type == PartyType.PERSON
            if original:
                text = original[0]
            elif slavic:
                text = _cyrillic(" ".join(words))
            else:
                continue
        else:
            listed = [d for d in entry.dates_of_birth if len(d) == 10]
            if entry.party_type != PartyType.PERSON or not listed:
                continue
            dob = listed[0]
            text = " ".join(words)
        cases.append(Case(Query(text, party, "", dob), (entry.list_name, entry.entry_id), kind))
    return cases


def negatives(entries: list[SanctionsEntry], count: int, seed: int = 11) -> list[Case]:
    rng = random.Random(seed)
    listed = {" ".join(sorted(names.tokens(n.name))) for e in entries for n in e.names}
    listed_texts = sorted({" ".join(names.tokens(n.name)) for e in entries for n in e.names})
    cases: list[Case] = []
    seen: set[str] = set()
    attempts = 0
    while len(cases) < count:
        attempts += 1
        if attempts > count * 50:
            raise RuntimeError(f"could only compose {len(cases)} distinct non-matches")
        roll = len(cases) % 4
        if roll == 0:
            given = rng.choice(CHINESE_GIVEN) + (rng.choice(CHINESE_GIVEN).lower() if rng.random() < 0.6 else "")
            text, party, kind = f"{rng.choice(CHINESE_SURNAMES)} {given}", PartyType.PERSON, "chinese_person"
        elif roll == 1:
            text, party, kind = (
                f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}",
                PartyType.PERSON,
                "western_person",
            )
        elif roll == 2:
            text = f"{rng.choice(CITIES)} {rng.choice(BRANDS)} {rng.choice(TRADES)} {rng.choice(COMPANY_FORMS)}"
            party, kind = PartyType.COMPANY, "chinese_company"
        else:
            extra = rng.choice(("", "Brothers", "Partners", "Works", "Direct", "Express"))
            text = f"{rng.choice(WESTERN_PREFIXES)} {rng.choice(WESTERN_SECTORS)} {extra} {rng.choice(SUFFIXES)}"
            party, kind = PartyType.COMPANY, "western_company"
        key = " ".join(sorted(names.tokens(text)))
        if key in seen or key in listed:
            continue
        best = process.extractOne(
            " ".join(names.tokens(text)), listed_texts, scorer=fuzz.token_sort_ratio, score_cutoff=95
        )
        if best is not None and best[1] >= 95:
            continue  # too close to a listed name to call it a non-match
        seen.add(key)
        cases.append(Case(Query(text, party), None, kind))
    return cases
