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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from services.compliance.domain import names
from services.compliance.domain.name_variants import NO_VARIANTS, NameVariants
from services.compliance.domain.sanctions import Identifier, PartyType, SanctionsEntry

TOKEN_MATCH_FLOOR = 0.80  # token pairs less similar than this count as unmatched
COMMON_KEY_POSTINGS = 1500  # a key in more names than this is "common": used only as a last resort
COMMON_DELETION_POSTINGS = 300  # the same for one-letter-deleted keys, which are many per token
RARE_TOKEN_DF = 5  # a token in at most this many names weighs 1.0; more frequent ones weigh less
MIN_TOKEN_WEIGHT = 0.25
MIN_IDENTIFIER_LENGTH = 5  # shorter "numbers" (a vessel's call sign "A") are too weak to short-circuit
VARIANT_SIMILARITY = 0.95  # two spellings of one name part in the variant table
INITIAL_SIMILARITY = 0.8
ROMANISATION_SIMILARITY = 0.92  # same spelling once romanisation alternations are folded (names.romanisation_key)
PATRONYMIC_FACTOR = 0.5
FUZZY_PAIR_FACTOR = 0.93  # each fuzzy (typo, phonetic, initial) pair after the first
PHONETIC_MIN_LENGTH = 4

# How a query part matched an entry part (the hit's explanation)
EXACT, VARIANT, PHONETIC, TYPO, INITIAL = "exact", "variant", "phonetic", "typo", "initial"
JOINED, UNMATCHED = "joined", "unmatched"


@dataclass(frozen=True)
class Query:
    name: str
    party_type: PartyType = PartyType.UNKNOWN
    country: str = ""  # ISO 3166-1 alpha-2, upper case, "" when not given
    date_of_birth: str = ""  # YYYY-MM-DD, "" when not given
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class PartMatch:
    """One line of a hit's explanation: a query name part against an entry name part, and how they
    matched. A part that matched nothing has the other side empty and `how` UNMATCHED; a name matched only
    written without spaces ("Xijinping") is one JOINED line with both names' parts joined."""

    query_part: str
    entry_part: str
    how: str  # EXACT, VARIANT, PHONETIC, TYPO, INITIAL, JOINED or UNMATCHED
    similarity: float


@dataclass(frozen=True)
class Hit:
    entry: SanctionsEntry
    matched_name: str
    is_alias: bool
    score: float
    matched_fields: tuple[str, ...]  # among "name", "alias", "identifier", "date_of_birth", "country"
    name_score: float  # before the date-of-birth and country adjustments
    parts: tuple[PartMatch, ...] = ()  # how the name matched, part by part (empty for an identifier hit)


@dataclass(frozen=True)
class _Variant:
    entry: int  # index into NameIndex.entries
    name: int  # index into the entry's names
    tokens: tuple[str, ...]
    weights: tuple[float, ...] = ()
    total_weight: float = 0.0
    letters: int = 0


def _keys(tokens: Sequence[str], variants: NameVariants) -> set[str]:
    keys: set[str] = set()
    for token in tokens:
        # Every spelling of a variant group posts under the group's first spelling, so "Mohamed" finds
        # names that hold only "Muhammad".
        keys.add("t:" + variants.spellings(token)[0])
        if len(token) >= 3:
            keys.add("s:" + names.skeleton(token))
        if len(token) >= PHONETIC_MIN_LENGTH:
            keys.add("m:" + names.phonetic(token))
            keys.add("r:" + names.romanisation_key(token))
        # One letter dropped from either side (SymSpell-style deletion keys): finds a typo anywhere in a
        # short token, where the prefix key cannot help ("ISL" for "ISIL", "Navr" for "Nasr").
        if 3 <= len(token) <= 7:
            keys.add("d:" + token)
            if len(token) >= 4:
                keys.update("d:" + token[:i] + token[i + 1 :] for i in range(len(token)))
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

    def __init__(
        self,
        entries: Iterable[SanctionsEntry],
        *,
        variants: NameVariants = NO_VARIANTS,
        max_candidates: int = 150,
    ) -> None:
        self.variants = variants
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
                for key in _keys(tokens, variants):
                    postings[key].append(v_index)
                # A name part's spellings count as one token: "Mohamed" is as common as "Muhammad".
                for token in {variants.spellings(t)[0] for t in tokens}:
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
        self._weights = {token: self._weight(df) for token, df in self._token_df.items()}
        by_romanisation: dict[str, set[str]] = defaultdict(set)
        for v in self._variants:
            for token in v.tokens:
                if len(token) >= PHONETIC_MIN_LENGTH:
                    by_romanisation[names.romanisation_key(token)].add(token)
        self._by_romanisation = {key: tuple(sorted(found)) for key, found in by_romanisation.items()}
        self._variants = [
            _Variant(
                v.entry,
                v.name,
                v.tokens,
                w := tuple(self.weight(t) for t in v.tokens),
                sum(w),
                sum(len(t) for t in v.tokens),
            )
            for v in self._variants
        ]

    @property
    def name_count(self) -> int:
        return len(self._variants)

    def _weight(self, df: int) -> float:
        if df <= RARE_TOKEN_DF:
            return 1.0
        return max(MIN_TOKEN_WEIGHT, min(1.0, math.log(self._total / df) / self._idf_ref))

    def weight(self, token: str) -> float:
        """How much a token identifies: 1.0 when rare on the lists (or absent), down to MIN_TOKEN_WEIGHT."""
        weight = self._weights.get(self.variants.spellings(token)[0], 1.0)
        # A patronymic is often left out by callers (and by some lists): it counts for less either way.
        return weight * PATRONYMIC_FACTOR if names.is_patronymic(token) else weight

    def same_romanisation(self, token: str) -> tuple[str, ...]:
        """The listed tokens whose romanisation key is the token's."""
        return self._by_romanisation.get(names.romanisation_key(token), ())

    def candidates(self, tokens: Sequence[str]) -> list[int]:
        """Variant indexes worth scoring for these query tokens, most promising first."""
        keys = _keys(tokens, self.variants)
        # Typo keys (one letter deleted) of a short token are shared by many names: only the rarer vote.
        rare = [
            k
            for k in keys
            if 0 < len(self._postings.get(k, ())) <= (COMMON_DELETION_POSTINGS if k[0] == "d" else COMMON_KEY_POSTINGS)
        ]
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


def _allowed_edits(shorter: int, longer: int) -> int:
    """Typos tolerated between tokens of these lengths, scaling with length (as search engines' "fuzziness
    AUTO"): none within 1-3 letters (Chinese syllables such as "shi"/"shu" are different names), one letter
    dropped from a 4-letter token ("ISIL"/"ISL"), one edit in 4-7 letters, two from 8."""
    if longer <= 3 or shorter <= 2:
        return 0
    if shorter == 3:
        return 1 if longer == 4 else 0
    return 1 if shorter <= 7 else 2


def compare_parts(a: str, b: str, variants: NameVariants = NO_VARIANTS) -> tuple[float, str]:
    """How two name parts match: (similarity, how), how one of EXACT, VARIANT, INITIAL, TYPO, PHONETIC or
    UNMATCHED (similarity 0).

    1.0 for equal parts; 0.95 for two spellings of one variant-table group ("hussein"/"husayn"); 0.8 for an
    initial against a name it begins; 0.92 for parts equal once romanisation alternations are folded
    ("yadher"/"yazer", "shakil"/"shakeel", "qasim"/"kassim"); from the edit distance within the tolerated
    typos (one edit in an 8-letter part: 0.925).

    Metaphone keys find candidates (NameIndex) but do not score: they drop vowels, and pinyin syllables
    that differ only in vowels are different names ("huilan"/"hailun"); the romanisation key keeps them.
    """
    if a == b:
        return 1.0, EXACT
    if variants.equivalent(a, b):
        return VARIANT_SIMILARITY, VARIANT
    if len(a) == 1 or len(b) == 1:
        return (INITIAL_SIMILARITY, INITIAL) if a[0] == b[0] else (0.0, UNMATCHED)
    shorter, longer = sorted((len(a), len(b)))
    if shorter >= PHONETIC_MIN_LENGTH and names.romanisation_key(a) == names.romanisation_key(b):
        return ROMANISATION_SIMILARITY, PHONETIC
    # A typo in the first letter of a short part is rarer than a different name ("Fang"/"Wang").
    allowed = _allowed_edits(shorter, longer) if a[0] == b[0] or shorter > 6 else 0
    # OSA: a swap of two adjacent letters ("samiay"/"samiya") is one typo, not two.
    distance = OSA.distance(a, b, score_cutoff=allowed)
    typo = 1.0 - 0.6 * distance / longer if distance <= allowed else 0.0
    return (typo, TYPO) if typo > 0 else (0.0, UNMATCHED)


def token_similarity(a: str, b: str, variants: NameVariants = NO_VARIANTS) -> float:
    """compare_parts' similarity alone."""
    return compare_parts(a, b, variants)[0]


def _token_similarities(
    query: Sequence[str],
    candidates: Sequence[str],
    variants: NameVariants = NO_VARIANTS,
    same_key: Callable[[str], Iterable[str]] | None = None,
) -> dict[tuple[str, str], float]:
    """token_similarity of every (query token, candidate token) pair that is not 0 (absent pairs are 0).

    One C++ pass per query token finds the candidate tokens within its edit budget (rapidfuzz
    process.extract); those, the token's variant spellings, the tokens sharing its romanisation key
    (`same_key`, precomputed by the index; computed here when not given) and initials go through
    compare_parts' exact rule.
    """
    sims: dict[tuple[str, str], float] = {}
    initials = [b for b in candidates if len(b) == 1]
    present = set(candidates)
    if same_key is None:
        by_key: dict[str, list[str]] = defaultdict(list)
        for b in candidates:
            by_key[names.romanisation_key(b)].append(b)

        def same_key(token: str) -> Iterable[str]:
            return by_key.get(names.romanisation_key(token), ())

    for a in query:
        if len(a) == 1:
            found = [b for b in candidates if b[0] == a]
        else:
            budget = max(_allowed_edits(len(a), len(a) + 1), _allowed_edits(len(a) - 1, len(a)))
            found = [
                b for b, _, _ in process.extract(a, candidates, scorer=OSA.distance, score_cutoff=budget, limit=None)
            ]
            found += [b for b in initials if b == a[0]]
            found += [b for b in variants.spellings(a) if b in present]
            if len(a) >= PHONETIC_MIN_LENGTH:
                found += [b for b in same_key(a) if b in present]
        for b in found:
            if (sim := token_similarity(a, b, variants)) > 0:
                sims[(a, b)] = sim
    return sims


def _align(pairs: list[tuple[float, int, int]], qw: Sequence[float], nw: Sequence[float]) -> tuple[float, float, int]:
    """Greedy one-to-one alignment of scored token pairs: (weighted matched mass, strongest pair weight,
    number of fuzzy pairs). A fuzzy pair (below a variant spelling) proves less: its weight counts x0.8
    towards the strongest pair."""
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_q: set[int] = set()
    used_n: set[int] = set()
    matched = 0.0
    strongest = 0.0
    fuzzy = 0
    for sim, i, j in pairs:
        if i in used_q or j in used_n:
            continue
        used_q.add(i)
        used_n.add(j)
        matched += sim * (qw[i] + nw[j])
        pair_weight = qw[i] if qw[i] < nw[j] else nw[j]
        if sim < VARIANT_SIMILARITY:
            fuzzy += 1
            pair_weight *= 0.8
        if pair_weight > strongest:
            strongest = pair_weight
    return matched, strongest, fuzzy


def token_alignment(
    query: Sequence[str], name: Sequence[str], sims: dict[tuple[str, str], float], weight: Callable[[str], float]
) -> tuple[float, float, int]:
    """(weighted Dice over one-to-one token pairs, weight of the strongest matched pair, fuzzy pairs).

    Pairs are taken best first, each token used once, so the score does not depend on word order and is
    symmetric in its two arguments.
    """
    qw = [weight(t) for t in query]
    nw = [weight(t) for t in name]
    pairs = [(sim, i, j) for i, a in enumerate(query) for j, b in enumerate(name) if (sim := sims.get((a, b), 0.0)) > 0]
    matched, strongest, fuzzy = _align(pairs, qw, nw)
    total = sum(qw) + sum(nw)
    return (matched / total if total else 0.0), strongest, fuzzy


def compact_similarity(query: Sequence[str], name: Sequence[str]) -> float:
    """Similarity of the names written without spaces ("Xi Jinping" vs "Xijinping", "Bin Laden" vs
    "Binladen"): catches word boundaries that the token view misses. At most two edits are tolerated."""
    best = 0.0
    for a, b in (("".join(query), "".join(name)), ("".join(sorted(query)), "".join(sorted(name)))):
        if abs(len(a) - len(b)) > 2:
            continue
        distance = Levenshtein.distance(a, b, score_cutoff=2)
        if distance <= 2:
            best = max(best, 1.0 - distance / max(len(a), len(b)))
    return best


def _guarded(aligned: float, strongest: float, compact: float, letters: int, single: bool, fuzzy: int = 0) -> float:
    """The false-positive guards applied to the better of the token and compact views."""
    score = max(aligned, compact * 0.97)
    # Two names that agree only approximately in several parts are more often two different names.
    if fuzzy > 1 and aligned >= compact * 0.97:
        score *= FUZZY_PAIR_FACTOR ** (fuzzy - 1)
    # Short names: "ALI", "LI WEI", "BNC" match too much to be trusted alone (users' main complaint).
    if letters <= 4:
        score *= 0.75
    elif letters <= 6:
        score *= 0.9
    if single:
        score *= 0.97
    # Only common tokens matched ("TRADING", "GLOBAL", "MOHAMMED"): a coincidence more often than not.
    if aligned >= compact * 0.97:
        score *= 0.7 + 0.3 * strongest
    return max(0.0, min(1.0, score))


def name_score(
    query: Sequence[str], name: Sequence[str], sims: dict[tuple[str, str], float], weight: Callable[[str], float]
) -> float:
    """The name-only score with the false-positive guards (short names, common tokens)."""
    if not query or not name:
        return 0.0
    aligned, strongest, fuzzy = token_alignment(query, name, sims, weight)
    distinctive = max(weight(t) for t in query)
    # Only a different word count can mean a word boundary moved; otherwise the tokens decide.
    compact = compact_similarity(query, name) * (0.75 + 0.25 * distinctive) if len(query) != len(name) else 0.0
    letters = min(len("".join(query)), len("".join(name)))
    return _guarded(aligned, strongest, compact, letters, len(query) == 1 or len(name) == 1, fuzzy)


def explain(query: Sequence[str], name: Sequence[str], variants: NameVariants = NO_VARIANTS) -> tuple[PartMatch, ...]:
    """Which query parts matched which name parts and how, in the one-to-one alignment the score uses
    (best pairs first), then the parts of either side left unmatched; JOINED when only the names written
    without spaces are alike."""
    pairs = []
    for i, a in enumerate(query):
        for j, b in enumerate(name):
            sim, how = compare_parts(a, b, variants)
            if sim > 0:
                pairs.append((sim, i, j, how))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_q: dict[int, PartMatch] = {}
    used_n: set[int] = set()
    for sim, i, j, how in pairs:
        if i in used_q or j in used_n:
            continue
        used_q[i] = PartMatch(query[i], name[j], how, round(sim, 4))
        used_n.add(j)
    if not used_q and len(query) != len(name) and compact_similarity(query, name) > 0:
        return (PartMatch(" ".join(query), " ".join(name), JOINED, round(compact_similarity(query, name), 4)),)
    lines = [used_q.get(i) or PartMatch(a, "", UNMATCHED, 0.0) for i, a in enumerate(query)]
    lines += [PartMatch("", b, UNMATCHED, 0.0) for j, b in enumerate(name) if j not in used_n]
    return tuple(lines)


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
            sims = _token_similarities(list(tokens), vocabulary, self.index.variants, self.index.same_romanisation)
            # Which query positions each candidate token pairs with, so a variant costs a lookup per token.
            by_token: dict[str, list[tuple[int, float]]] = defaultdict(list)
            for (a, b), sim in sims.items():
                by_token[b].extend((i, sim) for i, t in enumerate(tokens) if t == a)
            weight = self.index.weight
            qw = [weight(t) for t in tokens]
            q_total = sum(qw)
            q_letters = sum(len(t) for t in tokens)
            q_compact = 0.75 + 0.25 * max(qw)
            # Scores can rise by at most this much after the name (date of birth and country agree).
            floor = min_score - 0.09
            per_entry: dict[int, tuple[float, _Variant]] = {}
            for variant in variants:
                # The same computation as name_score(), on the weights computed once at index build.
                vt = variant.tokens
                pairs = [(sim, qi, j) for j, b in enumerate(vt) for qi, sim in by_token.get(b, ())]
                compact = 0.0
                if len(tokens) != len(vt):
                    compact = compact_similarity(tokens, vt) * q_compact
                if not pairs and compact * 0.97 < floor:
                    continue
                matched, strongest, fuzzy = _align(pairs, qw, variant.weights)
                aligned = matched / (q_total + variant.total_weight)
                letters = min(q_letters, variant.letters)
                score = _guarded(aligned, strongest, compact, letters, len(tokens) == 1 or len(vt) == 1, fuzzy)
                if score < floor:
                    continue
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
                parts = explain(tokens, variant.tokens, self.index.variants)
                best[e_index] = Hit(entry, listed.name, listed.is_alias, round(final, 4), tuple(fields), score, parts)
        ranked = sorted(best.values(), key=lambda h: (-h.score, h.entry.list_name, h.entry.entry_id))
        return ranked[:limit]
