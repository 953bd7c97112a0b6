"""Name normalisation for sanctions screening: the same function folds list names and queries.

A name becomes a tuple of lower-case ASCII tokens: Unicode compatibility-folded (NFKC), transliterated to
Latin (anyascii: Cyrillic, Arabic, Greek, Hangul, CJK -> pinyin without tones), stripped of punctuation,
honorifics and titles ("Mr", "Dr", "Sheikh", "Haji"), legal-form suffixes ("LTD", "LLC", "GMBH", "OOO",
"有限公司") and the Arabic article ("al-", "el-"). Because both sides go through the same function, a
rule only needs to be right about what carries no identity, not about how any one list spells it.

Patronymics ("Aleksandrovich", "Ivanovna") are recognised by their ending (is_patronymic): a query that
omits one loses less than one that omits a given name or surname.

What it cannot do: Arabic script has no vowels, so "محمد" folds to "mhmd", which matches "Muhammad" only
through the fuzzy comparison, weakly; Chinese characters fold to Mandarin pinyin, so a Cantonese or
Wade-Giles romanisation on a list ("Cheung", "Hsu") is matched only by the typo tolerance.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jellyfish
from anyascii import anyascii
from rapidfuzz.distance import OSA

# Titles, honorifics and ranks that sanctions lists and callers add or omit freely (OFAC writes some
# into the name, UN keeps them in TITLE). Dropped on both sides; they never identify a party.
HONORIFICS = frozenset(
    """
    mr mrs ms miss mx dr prof professor sir dame lord lady madam madame mme mlle herr frau
    sheikh shaikh shaykh sheik cheikh haji hajji hadji hajj alhaj alhajj mullah mulla maulana mawlana
    maulvi mawlawi mawlavi molvi moulvi imam ayatollah hojatoleslam
    general col colonel lt lieutenant maj major capt captain cmdr commander brig brigadier adm admiral
    engr engineer honorable honourable excellency
    """.split()  # noqa: SIM905
)

# Legal-form words: what users complain match everything ("CORP", "LTD"). Multi-word forms are split
# into tokens by the tokenizer, so "co ltd", "s a", "sp z o o" are covered token by token.
COMPANY_SUFFIXES = frozenset(
    """
    ltd limited llc lllp llp lp plc inc incorporated corp corporation co company cos companies
    gmbh mbh ag kg kgaa ohg ug ev sa sas sarl sprl srl spa sl sa de cv sab bv nv vof cvba bvba
    ab oy oyj asa aps kk yk gk pte pty pvt bhd sdn tbk pt cv
    jsc ojsc cjsc pjsc ao oao zao pao ooo tov pat prat ip chp fze fzco fzc fz llc
    sae sal wll spc est establishment trust ltda limitada lda sac saa eirl sapi aktiengesellschaft
    youxiangongsi youxianzerengongsi gufenyouxiangongsi gongsi jituan
    """.split()  # noqa: SIM905
)

# Legal forms written out, as folded token runs: removed as a whole (only if something else is left), so
# "Limited Liability Company" is "LLC" is nothing. Their single words stay, since "Sociedad" or "Company"
# alone can be part of a name.
LEGAL_FORM_PHRASES = tuple(
    tuple(phrase.split())
    for phrase in """
    limited liability company|limited liability partnership|public limited company|private limited company
    company limited|joint stock company|closed joint stock company|open joint stock company
    public joint stock company|public joint stock|open joint stock|joint stock|sociedad anonima
    sociedad anonima de capital variable
    sociedad de responsabilidad limitada|sociedade anonima|sociedade limitada|societe anonyme
    societe a responsabilite limitee|societa a responsabilita limitata|societa per azioni
    gesellschaft mit beschrankter haftung|gesellschaft mit beschraenkter haftung
    obshchestvo s ogranichennoy otvetstvennostyu|obshchestvo s ogranichennoi otvetstvennostiu
    obshchestvo s ogranichennoy otvetstvennostiu|otkrytoe aktsionernoe obshchestvo
    zakrytoe aktsionernoe obshchestvo|publichnoe aktsionernoe obshchestvo|aktsionernoe obshchestvo
    tovarystvo z obmezhenoyu vidpovidalnistyu|sociedad anonima cerrada|empresa individual
    """.replace("\n", "|").split("|")
    if phrase.strip()
)
# "Joint Stock Co." is "Joint Stock Company", "Ltd Liability Company" is "Limited Liability Company"
LEGAL_FORM_PHRASES += tuple(
    tuple({"company": "co", "limited": "ltd"}.get(word, word) for word in phrase)
    for phrase in LEGAL_FORM_PHRASES
    if "company" in phrase or "limited" in phrase
)
_PHRASE_STARTS = frozenset(phrase[0] for phrase in LEGAL_FORM_PHRASES)

# Long legal-form and title words that a typo must not turn into a name part ("LIMTIED", "COMPAYN",
# "PROFESSSOR"): a word one letter from one of them is read as it.
_LONG_FORMS = (
    "limited", "company", "corporation", "incorporated", "limitada", "public", "general", "professor",
    "colonel", "lieutenant", "commander", "brigadier", "admiral", "engineer",
)  # fmt: skip

# Articles and linking words that lists write inconsistently ("AL-QAIDA", "Qaida"; "BANK OF X").
PARTICLES = frozenset({"al", "el", "ul", "the", "of", "and", "und", "et", "y", "de", "del", "la", "le", "les"})

# CJK legal forms written in characters, removed before transliteration so they cannot fuse with the
# name (anyascii writes "有限公司" as one camel-cased word).
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司")

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}(?:[a-z]\b)?")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_HANGUL = re.compile(r"[\uac00-\ud7af]+")


def _romanise_cjk(run: str) -> str:
    """A run of Chinese characters as pinyin: a 2-3 character run is read as a personal name
    (family name + given name, "习近平" -> "xi jinping", the form the lists use); longer runs as one word."""
    syllables = [anyascii(ch) for ch in run]
    if 2 <= len(syllables) <= 3:
        return f" {syllables[0]} {''.join(syllables[1:])} "
    return f" {''.join(syllables)} "


def _romanise_hangul(run: str) -> str:
    """Korean names: family name syllable, then the given name as one word ("김정은" -> "gim jeongeun")."""
    syllables = [anyascii(ch) for ch in run]
    if 2 <= len(syllables) <= 3:
        return f" {syllables[0]} {''.join(syllables[1:])} "
    return f" {''.join(syllables)} "


def fold(text: str) -> str:
    """Lower-case ASCII with single spaces, punctuation removed; no token is dropped."""
    text = unicodedata.normalize("NFKC", text)
    # BGN/PCGN and passports write Cyrillic "ё" as "yo" ("Пётр" -> "Pyotr"); anyascii would write "e".
    text = text.replace("ё", "yo").replace("Ё", "Yo")
    for suffix in _CJK_SUFFIXES:
        text = text.replace(suffix, " ")
    text = _CJK.sub(lambda m: _romanise_cjk(m.group()), text)
    text = _HANGUL.sub(lambda m: _romanise_hangul(m.group()), text)
    # Apostrophes inside a word are transliteration marks ("Qur'an", "Sa'id"): join, do not split.
    text = anyascii(text).lower().replace("'", "").replace("`", "")
    # Dotted abbreviations are one word: "S.A." is "sa", "L.L.C." is "llc" (the legal-form lists hold them so).
    text = _DOTTED.sub(lambda m: m.group().replace(".", ""), text)
    return _NON_ALNUM.sub(" ", text).strip()


def _drop_phrases(tokens: list[str]) -> list[str]:
    if _PHRASE_STARTS.isdisjoint(tokens):
        return tokens
    kept = tokens
    for phrase in sorted(LEGAL_FORM_PHRASES, key=len, reverse=True):
        size = len(phrase)
        i = 0
        while i + size <= len(kept):
            if tuple(kept[i : i + size]) == phrase and len(kept) > size:
                kept = kept[:i] + kept[i + size :]
            else:
                i += 1
    return kept


def _spelt_form(token: str) -> str:
    """The legal-form word a token misspells by one letter, else the token."""
    if len(token) < 6 or token in _LONG_FORMS:
        return token
    return next((form for form in _LONG_FORMS if OSA.distance(token, form, score_cutoff=1) <= 1), token)


def _drop(tokens: list[str], words: frozenset[str]) -> list[str]:
    kept = [t for t in tokens if t not in words]
    return kept or tokens  # a name made only of such words keeps them rather than vanish


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """The identifying tokens of a name, in their original order.

    One pass can uncover what another pass removes ("Joint al- Stock X": the particle goes after the
    legal-form phrases are looked for, leaving "joint stock x"), so passes repeat until nothing changes:
    normalising a normalised name changes nothing.
    """
    words = _tokens_once(text)
    for _ in range(4):
        again = _tokens_once(" ".join(words))
        if again == words:
            break
        words = again
    return words


def _tokens_once(text: str) -> tuple[str, ...]:
    folded = _join_article_titles(fold(text).split())
    # The Arabic article written joined ("Alshairi", "Elsayed") is the split "al-Shairi" of the lists,
    # whose "al" is dropped as a particle: strip it where enough of a name remains to stand alone.
    # Only before a consonant: "Alexei", "Aliaksandr", "Alireza" are names, not an article and a name.
    folded = [
        w[2:]
        if w[:2] in ("al", "el")
        and len(w) >= 7
        and w[2] not in "aeiouy"
        and not is_patronymic(w)
        and w[2:] not in HONORIFICS
        else w
        for w in folded
    ]
    folded = _split_abd(folded)
    words = _drop(folded, HONORIFICS)
    words = _drop_phrases(words)
    if len(words) > 1:
        words = _drop(_drop_phrases([_spelt_form(w) for w in words]), HONORIFICS)
    words = _drop(words, COMPANY_SUFFIXES)
    words = _drop(words, PARTICLES)
    return tuple(words)


def _join_article_titles(words: list[str]) -> list[str]:
    """ "al-Shaykh" is a family name, not the title "Sheikh": the article marks it. Joined into one word
    ("alshaykh", as "Alshaykh" is written), it is kept as a name part like any other."""
    out: list[str] = []
    for word in words:
        if out and out[-1] in ("al", "el") and word in HONORIFICS:
            out[-1] += word
        else:
            out.append(word)
    return out


_ABD = ("abdul", "abdel", "abdal", "abdol", "abdur", "abdus", "abdoul")


def _split_abd(words: list[str]) -> list[str]:
    """ "Abdulrahman" is "Abd al-Rahman" written as one word: split the "Abd" compound off when a name of
    at least four letters follows, so both spellings have the same parts."""
    out: list[str] = []
    for word in words:
        prefix = next((p for p in _ABD if word.startswith(p) and len(word) - len(p) >= 4), None)
        out.extend((prefix, word[len(prefix) :]) if prefix else (word,))
    return out


_PATRONYMIC_ENDINGS = ("ovich", "evich", "ovna", "evna", "ovych", "ovych", "ivna", "yevich", "ievich")


def is_patronymic(token: str) -> bool:
    return len(token) >= 7 and token.endswith(_PATRONYMIC_ENDINGS)


def normalise(text: str) -> str:
    """The name's tokens joined by single spaces (idempotent: normalise(normalise(x)) == normalise(x))."""
    return " ".join(tokens(text))


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """A crude phonetic key for blocking: first letter, then consonants with repeats collapsed.

    "hassan", "hasan", "hasen" -> "hsn"; "mohammed", "muhammad" -> "md". Transliterations differ mostly
    in vowels and doubled consonants, so candidates that share a skeleton are worth scoring.
    """
    if not token:
        return token
    out = [token[0]]
    for ch in token[1:]:
        if ch in "aeiouyhw" and not ch.isdigit():
            continue
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


def normalise_identifier(value: str) -> str:
    """Passport, IMO and national id numbers compared on letters and digits only, upper case; an IMO
    number with or without its "IMO" prefix (OFAC writes "IMO 9187629", callers often just the digits)."""
    plain = re.sub(r"[^0-9A-Z]", "", anyascii(unicodedata.normalize("NFKC", value)).upper())
    return plain[3:] if re.fullmatch(r"IMO[0-9]{7}", plain) else plain


# Romanisation alternations, in order: digraphs first, then vowel spellings (Arabic, Persian, Slavic
# names in English, French and German practice). Folding them makes "Yadher"/"Yazer", "Khoury"/"Houri",
# "Youssef"/"Yusef", "Qasim"/"Kasim" one key while keeping vowels, which pinyin syllables differ by.
_ROMANISATION = (
    ("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("dzh", "j"), ("dj", "j"), ("zh", "j"), ("kh", "h"),
    ("gh", "g"), ("dh", "z"), ("th", "s"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("c", "k"), ("w", "v"),
    ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ie", "i"), ("iy", "i"), ("ij", "i"), ("y", "i"), ("x", "ks"),
)  # fmt: skip


@lru_cache(maxsize=65536)
def romanisation_key(token: str) -> str:
    """The token with romanisation alternations folded, doubled letters single, a final "h" after a vowel
    dropped ("Hamzah" -> "hamza")."""
    key = token
    for old, new in _ROMANISATION:
        key = key.replace(old, new)
    out: list[str] = []
    for ch in key:
        if not out or ch != out[-1]:
            out.append(ch)
    if len(out) > 2 and out[-1] == "h" and out[-2] in "aeiou":
        out.pop()
    if out[:2] == ["i", "e"]:  # a Cyrillic initial E (U+0415) is written "Ye" or "E": "Yelena", "Elena"
        out.pop(0)
    return "".join(out)


@lru_cache(maxsize=65536)
def phonetic(token: str) -> str:
    """The Metaphone key of a token ("shakil", "shakeel" -> "XKL"): transliterations that differ in vowels
    and spelled consonants share it. Used for candidate retrieval and, bounded by edit distance, scoring."""
    return jellyfish.metaphone(token)
