"""Rule-library use cases: stage a draft from packs, diff it, publish it, seed the shipped packs, read.

Publishing commits the new version, its bitemporal rule rows and the `rules_published` event in one
transaction (the outbox), so a re-check worker never misses a version and never sees a half-published one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xborder.compliance.v1 import events_pb2

from services.compliance.adapters.reference_views import HS_DATASET
from services.compliance.adapters.rule_packs import SCHEMA_FILE, read_packs
from services.compliance.adapters.unit_of_work import ComplianceUnitOfWork
from services.compliance.domain.library import (
    Draft,
    LibraryVersion,
    PackErrors,
    PackProblem,
    Reference,
    RuleChange,
    diff,
    same_version_edited,
)
from services.compliance.domain.rules import Rule
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import NotFound, ValidationError
from services.shared.iso4217 import default_table
from services.shared.logs import get_logger

UowFactory = Callable[[], ComplianceUnitOfWork]
log = get_logger(__name__)

RULES_DIR = "rules"
COUNTRIES_DATASET = "iso3166_countries"


@dataclass(frozen=True)
class Staged:
    draft: Draft
    changes: list[RuleChange]


def schema_path(directory: Path, data_dir: Path) -> Path:
    """The schema beside the packs if there is one, else the shipped data/rules/schema.json."""
    beside = directory / SCHEMA_FILE
    return beside if beside.is_file() else data_dir / RULES_DIR / SCHEMA_FILE


def _reference(uow: ComplianceUnitOfWork) -> Reference:
    uow.datasets.require(HS_DATASET)
    uow.datasets.require(COUNTRIES_DATASET)
    hs = uow.reference.hs_codes()
    countries = uow.reference.countries()
    currencies = frozenset(code for code, info in default_table().items() if not info.withdrawn)
    return Reference(hs, countries, currencies)


def _read(uow: ComplianceUnitOfWork, directory: Path, data_dir: Path) -> Draft:
    rules, packs, digest = read_packs(directory, _reference(uow), schema_path(directory, data_dir))
    repository = uow.library
    everything: list[Rule] = []
    for version in repository.versions():
        everything.extend(repository.rules(version.version))
    edited = same_version_edited(everything, rules)
    if edited:
        raise PackErrors(
            PackProblem(
                f"{new.pack}.yaml",
                new.code,
                "version",
                f"version {new.version} was published with other content; a changed rule takes a new version",
            )
            for _, new in edited
        )
    return Draft(rules, tuple(packs), digest, utcnow())


def stage_draft(uow_factory: UowFactory, directory: Path, data_dir: Path) -> Staged:
    """Validate every pack in `directory` and stage it as the draft; PackErrors stage nothing."""
    with uow_factory() as uow:
        draft = _read(uow, directory, data_dir)
        repository = uow.library
        latest = repository.latest()
        changes = diff(repository.rules(latest.version) if latest else [], draft.rules)
        repository.stage(draft, str(directory))
        uow.commit()
    return Staged(draft, changes)


def diff_draft(uow_factory: UowFactory) -> Staged:
    with uow_factory() as uow:
        repository = uow.library
        draft = repository.draft()
        if draft is None:
            raise NotFound("no draft is staged; run `xborder rules import <dir>` first")
        latest = repository.latest()
        return Staged(draft, diff(repository.rules(latest.version) if latest else [], draft.rules))


def _publish(uow: ComplianceUnitOfWork, draft: Draft) -> tuple[LibraryVersion, list[RuleChange]] | None:
    repository = uow.library
    repository.lock()
    latest = repository.latest()
    changes = diff(repository.rules(latest.version) if latest else [], draft.rules)
    if latest is not None and not changes:
        return None
    published_at = utcnow()
    version = repository.publish(draft, codes.generate("RK", "G", at=published_at), published_at)
    uow.emit(
        events_pb2.RulesPublished(
            version=version.version,
            library_code=version.code,
            previous_version=latest.version if latest else 0,
            changes=[
                events_pb2.RuleChange(
                    code=c.code,
                    change=c.change,
                    version=c.version,
                    hs_scope=list(c.hs_scope),
                    destinations=list(c.destinations),
                )
                for c in changes
            ],
        )
    )
    return version, changes


def publish_draft(uow_factory: UowFactory) -> tuple[LibraryVersion, list[RuleChange]]:
    """Publish the staged draft as the next version; refused when it changes nothing."""
    with uow_factory() as uow:
        repository = uow.library
        draft = repository.draft()
        if draft is None:
            raise NotFound("no draft is staged; run `xborder rules import <dir>` first")
        published = _publish(uow, draft)
        if published is None:
            raise ValidationError.single(
                "draft", "the staged draft is identical to the current version; nothing to publish"
            )
        repository.drop_draft()
        uow.commit()
    return published


def seed_rule_library(uow_factory: UowFactory, data_dir: Path) -> LibraryVersion | None:
    """Publish the shipped packs (data/rules) as version 1 if no version exists; None when nothing was done.

    Like the reference-data import it is idempotent: two processes starting together publish once (the
    library lock), and a platform with a published library is left alone (later changes go through
    import/diff/publish).
    """
    directory = data_dir / RULES_DIR
    if not directory.is_dir() or not any(directory.glob("*.yaml")):
        log.warning("rule_library_not_seeded", reason="no rule packs shipped", directory=str(directory))
        return None
    with uow_factory() as uow:
        repository = uow.library
        repository.lock()
        if repository.latest() is not None:
            return None
        draft = _read(uow, directory, data_dir)
        published = _publish(uow, draft)
        uow.commit()
    assert published is not None
    log.info("rule_library_seeded", version=published[0].version, rules=published[0].rule_count)
    return published[0]


def list_versions(uow_factory: UowFactory) -> list[LibraryVersion]:
    with uow_factory() as uow:
        return uow.library.versions()


def get_library(uow_factory: UowFactory, version: int = 0, *, field: str = "version") -> LibraryVersion:
    with uow_factory() as uow:
        repository = uow.library
        found = repository.get(version) if version else repository.latest()
    if found is None:
        if version:
            raise NotFound(f"no rule library version {version}", field=field)
        raise NotFound("no rule library has been published yet; run `xborder rules publish`")
    return found


@dataclass(frozen=True)
class RuleListing:
    library: LibraryVersion
    rules: list  # of StoredRule


def list_rules(uow_factory: UowFactory, version: int = 0, destination: str = "") -> RuleListing:
    library = get_library(uow_factory, version, field="library_version")
    with uow_factory() as uow:
        stored = uow.library.stored_rules(library.version)
    if destination:
        stored = [s for s in stored if destination in s.rule.countries]
    return RuleListing(library, stored)


def describe(changes: list[RuleChange]) -> dict[str, list[str]]:
    return {kind: [c.code for c in changes if c.change == kind] for kind in ("added", "changed", "removed")}
