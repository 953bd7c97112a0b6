"""Name-part spelling variants: which tokens are the same name part written in another romanisation.

The table itself is data (data/screening/name_variants.yaml, read by adapters/name_variants_file.py) so
that a curated change is a versioned dataset change, not a code change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class VariantGroup:
    name: str  # the name part in its original script, for people reading explanations
    source: str  # key of the table's `sources`: which romanisation practice the spellings come from
    spellings: tuple[str, ...]  # normalised tokens (lower-case ASCII)


@dataclass(frozen=True)
class NameVariants:
    version: str
    groups: tuple[VariantGroup, ...] = ()
    _by_token: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, version: str, groups: Iterable[VariantGroup]) -> NameVariants:
        """The table; ValueError naming the spelling when one spelling is in two groups."""
        chosen = tuple(groups)
        by_token: dict[str, int] = {}
        for number, group in enumerate(chosen):
            for spelling in group.spellings:
                if by_token.get(spelling, number) != number:
                    raise ValueError(
                        f"spelling {spelling!r} is in two groups: {chosen[by_token[spelling]].name} and {group.name}"
                    )
                by_token[spelling] = number
        return cls(version, chosen, by_token)

    def group_of(self, token: str) -> int | None:
        """The group number of a token, None when the table does not know it."""
        return self._by_token.get(token)

    def spellings(self, token: str) -> tuple[str, ...]:
        """Every spelling of the token's group (the token alone when it is in none)."""
        number = self._by_token.get(token)
        return (token,) if number is None else self.groups[number].spellings

    def equivalent(self, a: str, b: str) -> bool:
        number = self._by_token.get(a)
        return number is not None and number == self._by_token.get(b)


NO_VARIANTS = NameVariants("none")
