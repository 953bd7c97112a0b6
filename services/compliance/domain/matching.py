"""The screening matcher: a candidate index over every loaded list name, and a scorer.

Per query: the name's tokens (domain.names) pick candidates through an inverted index keyed by token,
by a consonant skeleton of each token (transliteration variants), by a 4-letter prefix (typos at the end)
and by adjacent tokens joined ("XI Jinping" is found for "Xijinping"). Keys that occur in thousands of
names are only used when nothing rarer matched, so a query scores at most `max_candidates` names, not
25k. Each candidate is scored by aligning tokens one to one (order does not matter), weighting each token
by how rare it is across the lists (a shared "MOHAMMED" or "TRADING" proves little), then adjusted for
short names, weak aliases, party type, date of birth and country. An identifier (passport, IMO number)
equal to one on a list is a hit of score 1 whatever the name.

Scores are in [0, 1]; the decision thresholds live in domain.screening.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from services.compliance.domain import names
from services.compliance.domain.sanctions import Identifier, PartyType, SanctionsEntry

TOKEN_MATCH_FLOOR = 0.80  # token pairs less similar than this count as unmatched
COMMON_KEY_POSTINGS = 1500  # a key in more names than this is "common": used only as a last resort
RARE_TOKEN_DF = 20  # a token in at most this many names weighs 1.0; more frequent ones weigh less
MIN_TOKEN_WEIGHT = 0.25
MIN_IDENTIFIER_LENGTH = 5  # shorter "numbers" (a vessel's call sign "A") are too weak to short-circuit


@dataclass(frozen=True)
class Query:
    name: str
    party_type: PartyType = PartyType.UNKNOWN
    country: str = ""  # ISO 3166-1 alpha-2, upper case, "" when not given
    date_of_birth: str = ""  # YYYY-MM-DD, "" when not given
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class Hit:
    entry: SanctionsEntry
    matched_name: str
    is_alias: bool
    score: float
    matched_fields: tuple[str, ...]  # among "name", "alias", "identifier", "date_of_birth", "country"
    name_score: float  # before the date-of-birth and country adjustments


@dataclass(frozen=True)
class _Variant:
    entry: int  # index into NameIndex.entries
    name: int  # index into the entry's names
    tokens: tuple[str, ...]


def _keys(tokens: Sequence[str]) -> set[str]:
    keys: set[str] = set()
    for token in tokens:
        keys.add("t:" + token)
        if len(token) >= 3:
            keys.add("s:" + names.skeleton(token))
        if len(token) >= 5:
            keys.add("p:" + token[:4])
    for first, second in pairwise(tokens):
        keys.add("t:" + first + second)
    if len(tokens) > 2:
        keys.add("t:" + "".join(tokens))
    return keys


def _years(value: str) -> str:
    return value[:4]


class NameIndex:
    """Every name and alias of the loaded entries, indexed for candidate search. Immutable once built."""

    def __init__(self, entries: Iterable[SanctionsEntry], *, max_candidates: int = 300) -> None:
        self.entries: list[SanctionsEntry] = list(entries)
        self.max_candidates = max_candidates
        self._variants: list[_Variant] = []
        postings: dict[str, list[int]] = defaultdict(list)
        token_df: dict[str, int] = defaultdict(int)
        self._identifiers: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for e_index, entry in enumerate(self.entries):
            for n_index, entry_name in enumerate(entry.names):
                tokens = names.tokens(entry_name.name)
                if not tokens:
                    continue
                v_index = len(self._variants)
                self._variants.append(_Variant(e_index, n_index, tokens))
                for key in _keys(tokens):
                    postings[key].append(v_index)
                for token in set(tokens):
                    token_df[token] += 1
            for identifier in entry.identifiers:
                value = names.normalise_identifier(identifier.value)
                if len(value) >= MIN_IDENTIFIER_LENGTH:
                    self._identifiers[value].append((e_index, identifier.type))
        self._postings = dict(postings)
        self._token_df = dict(token_df)
        total = max(len(self._variants), RARE_TOKEN_DF + 1)
        self._idf_ref = math.log(total / RARE_TOKEN_DF)
        self._total = total

    @property
    def name_count(self) -> int:
        return len(self._variants)

    def weight(self, token: str) -> float:
        """How much a token identifies: 1.0 when rare on the lists (or absent), down to MIN_TOKEN_WEIGHT."""
        df = self._token_df.get(token, 0)
        if df <= RARE_TOKEN_DF:
            return 1.0
        return max(MIN_TOKEN_WEIGHT, min(1.0, math.log(self._total / df) / self._idf_ref))

    def candidates(self, tokens: Sequence[str]) -> list[int]:
        """Variant indexes worth scoring for these query tokens, most promising first."""
        keys = _keys(tokens)
        rare = [k for k in keys if 0 < len(self._postings.get(k, ())) <= COMMON_KEY_POSTINGS]
        used = rare or [k for k in keys if k in self._postings]
        votes: dict[int, float] = defaultdict(float)
        for key in used:
            posting = self._postings[key]
            strength = 1.0 / math.log(2 + len(posting))  # a key shared by few names votes louder
            for v_index in posting:
                votes[v_index] += strength
        ranked = sorted(votes, key=votes.__getitem__, reverse=True)
        return ranked[: self.max_candidates]

    def identifier_hits(self, identifiers: Iterable[Identifier]) -> list[tuple[int, Identifier]]:
        found: list[tuple[int, Identifier]] = []
        for identifier in identifiers:
            value = names.normalise_identifier(identifier.value)
            for e_index, listed_type in self._identifiers.get(value, ()):
                if not identifier.type or not listed_type or identifier.type == listed_type:
                    found.append((e_index, identifier))
        return found

    def variant(self, v_index: int) -> _Variant:
        return self._variants[v_index]


def _token_similarities(query: Sequence[str], candidates: Sequence[str]) -> dict[tuple[str, str], float]:
    """Similarity of every (query token, candidate token) pair (each candidate token scored once).

    Long tokens: the mean of Jaro-Winkler (forgiving typos late in a word) and the Indel ratio (strict on
    length); short tokens (< 4 letters) the ratio alone, which keeps "ALI" away from "ALA". Tokens with
    the same consonant skeleton (transliteration variants) score at least 0.85.
    """
    if not query or not candidates:
        return {}
    ratio = fuzz.ratio
    jaro = JaroWinkler.normalized_similarity
    sims: dict[tuple[str, str], float] = {}
    for a in query:
        skeleton_a = names.skeleton(a)
        for b in candidates:
            if a == b:
                sim = 1.0
            elif len(a) == 1 or len(b) == 1:  # an initial against a name it begins
                sim = 0.8 if a[0] == b[0] else 0.0
            elif min(len(a), len(b)) < 4:
                sim = ratio(a, b) / 100.0
            else:
                sim = (ratio(a, b) / 100.0 + jaro(a, b)) / 2.0
                if skeleton_a == names.skeleton(b) and len(skeleton_a) >= 2:
                    sim = max(sim, 0.85)
            sims[(a, b)] = sim
    return sims


def token_alignment(
    query: Sequence[str], name: Sequence[str], sims: dict[tuple[str, str], float], weight
) -> tuple[float, float]:
    """(weighted Dice over one-to-one token pairs, largest weight among the matched query tokens).

    Pairs are taken best first, each token used once, so the score does not depend on word order and is
    symmetric in its two arguments.
    """
    pairs = sorted(
        (
            (sims[(a, b)], i, j)
            for i, a in enumerate(query)
            for j, b in enumerate(name)
            if sims[(a, b)] >= TOKEN_MATCH_FLOOR
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    used_q: set[int] = set()
    used_n: set[int] = set()
    matched = 0.0
    strongest = 0.0
    for sim, i, j in pairs:
        if i in used_q or j in used_n:
            continue
        used_q.add(i)
        used_n.add(j)
        wq, wn = weight(query[i]), weight(name[j])
        matched += sim * (wq + wn)
        strongest = max(strongest, min(wq, wn))
    total = sum(weight(t) for t in query) + sum(weight(t) for t in name)
    return (matched / total if total else 0.0), strongest


def compact_similarity(query: Sequence[str], name: Sequence[str]) -> float:
    """Similarity of the names written without spaces, as given and in sorted order ("Xi Jinping" vs
    "Xijinping", "AlQaida" vs "Al Qaida"): catches word boundaries that the token view misses."""
    as_given = fuzz.ratio("".join(query), "".join(name))
    in_order = fuzz.ratio("".join(sorted(query)), "".join(sorted(name)))
    return max(as_given, in_order) / 100.0


def name_score(query: Sequence[str], name: Sequence[str], sims: dict[tuple[str, str], float], weight) -> float:
    """The name-only score with the false-positive guards (short names, common tokens)."""
    if not query or not name:
        return 0.0
    aligned, strongest = token_alignment(query, name, sims, weight)
    distinctive = max(weight(t) for t in query)
    compact = compact_similarity(query, name) * (0.75 + 0.25 * distinctive)
    score = max(aligned, compact * 0.97)
    # Short names: "ALI", "LI WEI", "BNC" match too much to be trusted alone (users' main complaint).
    letters = min(len("".join(query)), len("".join(name)))
    if letters <= 4:
        score *= 0.75
    elif letters <= 7:
        score *= 0.9
    if len(query) == 1 or len(name) == 1:
        score *= 0.95
    # Only common tokens matched ("TRADING", "GLOBAL", "MOHAMMED"): a coincidence more often than not.
    if aligned >= compact * 0.97:
        score *= 0.7 + 0.3 * strongest
    return max(0.0, min(1.0, score))


def _dob_adjustment(query_dob: str, listed: Sequence[str]) -> tuple[float, bool]:
    if not query_dob or not listed:
        return 0.0, False
    if any(d == query_dob for d in listed):
        return 0.06, True
    year = int(query_dob[:4])
    listed_years = {int(_years(d)) for d in listed if _years(d).isdigit()}
    if year in listed_years and any(len(d) == 4 for d in listed):
        return 0.03, True  # the list gives only the year, and it agrees
    if any(abs(year - y) <= 1 for y in listed_years):
        return -0.02, False  # close: transcription of a full date can be off by one year
    return -0.15, False


def _country_adjustment(query_country: str, listed: Sequence[str]) -> tuple[float, bool]:
    if not query_country or not listed:
        return 0.0, False
    if query_country in listed:
        return 0.03, True
    return -0.04, False


def _type_factor(query: PartyType, listed: PartyType) -> float:
    if PartyType.UNKNOWN in (query, listed) or query == listed:
        return 1.0
    if {query, listed} <= {PartyType.VESSEL, PartyType.AIRCRAFT, PartyType.COMPANY}:
        return 0.95  # lists file some shipping companies as vessels and vice versa
    return 0.85


class Matcher:
    def __init__(self, index: NameIndex) -> None:
        self.index = index

    def screen(self, query: Query, *, min_score: float, limit: int = 10) -> list[Hit]:
        """Hits with a score of at least `min_score`, best first, one per entry."""
        best: dict[int, Hit] = {}
        for e_index, identifier in self.index.identifier_hits(query.identifiers):
            entry = self.index.entries[e_index]
            best[e_index] = Hit(entry, identifier.value, False, 1.0, ("identifier",), 1.0)
        tokens = names.tokens(query.name)
        if tokens:
            chosen = self.index.candidates(tokens)
            variants = [self.index.variant(v) for v in chosen]
            vocabulary = sorted({t for v in variants for t in v.tokens})
            sims = _token_similarities(list(tokens), vocabulary)
            per_entry: dict[int, tuple[float, _Variant]] = {}
            for variant in variants:
                score = name_score(tokens, variant.tokens, sims, self.index.weight)
                entry = self.index.entries[variant.entry]
                if entry.names[variant.name].weak:
                    score *= 0.92
                score *= _type_factor(query.party_type, entry.party_type)
                if variant.entry not in per_entry or score > per_entry[variant.entry][0]:
                    per_entry[variant.entry] = (score, variant)
            for e_index, (score, variant) in per_entry.items():
                if e_index in best:
                    continue
                entry = self.index.entries[e_index]
                dob_delta, dob_ok = _dob_adjustment(query.date_of_birth, entry.dates_of_birth)
                country_delta, country_ok = _country_adjustment(query.country, entry.countries)
                final = max(0.0, min(1.0, score + dob_delta + country_delta))
                if final < min_score:
                    continue
                listed = entry.names[variant.name]
                fields = ["alias" if listed.is_alias else "name"]
                if dob_ok:
                    fields.append("date_of_birth")
                if country_ok:
                    fields.append("country")
                best[e_index] = Hit(entry, listed.name, listed.is_alias, round(final, 4), tuple(fields), score)
        ranked = sorted(best.values(), key=lambda h: (-h.score, h.entry.list_name, h.entry.entry_id))
        return ranked[:limit]
