"""Property: whatever is published later, library version N still holds exactly the rules published as N."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from services.compliance.adapters.library_repository import LibraryRepository
from services.compliance.adapters.tables import metadata
from services.compliance.domain.library import Draft, version_current_at
from services.compliance.domain.rules import Rule, rule_to_document
from tests.compliance_rules import rule

CODES = ["EU-A-X", "EU-B-X", "US-C-X", "JP-D-X"]

one_rule = st.builds(
    lambda code, version, severity, scope, pack: rule(
        code, pack=pack, version=version, severity=severity, **({"hs_scope": scope} if scope else {})
    ),
    st.sampled_from(CODES),
    st.integers(1, 3),
    st.sampled_from(["INFO", "CONDITION", "RESTRICTED", "PROHIBITED"]),
    st.lists(st.sampled_from(["85", "8518", "95"]), max_size=2, unique=True),
    st.sampled_from(["pack-one", "pack-two"]),
)
# A draft holds each code+version once (the loader refuses duplicates).
drafts = st.lists(st.lists(one_rule, max_size=6, unique_by=lambda r: r.key).filter(bool), min_size=1, max_size=5)


def contents(rules: list[Rule]) -> set[str]:
    return {f"{r.pack}|{sorted(rule_to_document(r).items())}" for r in rules}


@settings(max_examples=60, deadline=None)
@given(drafts)
def test_every_version_keeps_what_it_published(sequence: list[list[Rule]]) -> None:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        repository = LibraryRepository(connection)
        for number, rules in enumerate(sequence, start=1):
            draft = Draft(rules, ("pack-one", "pack-two"), f"digest-{number}", start)
            published = repository.publish(draft, f"code-{number}", start + timedelta(days=number))
            assert published.version == number
        for number, rules in enumerate(sequence, start=1):
            assert contents(repository.rules(number)) == contents(rules), number
        versions = repository.versions()
        assert version_current_at(versions, start + timedelta(days=2, hours=1)).version == min(2, len(sequence))  # type: ignore[union-attr]
        assert version_current_at(versions, start) is None
    engine.dispose()
