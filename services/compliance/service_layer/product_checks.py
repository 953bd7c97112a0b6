"""Product-check use cases: check a product for its markets, store each report, re-check on a new library.

Record time and valid time (docs/compliance-rules.md): `as_of` picks the rules in force on that date;
`library_version` picks the library as recorded. By default the version is the one that was current at the
end of `as_of`, so a check "as of" a past date reproduces the report given on that date.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from google.protobuf.message import Message
from xborder.compliance.v1 import events_pb2

from services.compliance.adapters.library_repository import LibraryRepository
from services.compliance.adapters.reference_views import CheckViews
from services.compliance.adapters.unit_of_work import ComplianceUnitOfWork
from services.compliance.domain.engine import UNDETERMINED, Outcome, no_rules, worldwide_only, worse
from services.compliance.domain.library import LibraryVersion, end_of_day, version_current_at
from services.compliance.domain.product import Product
from services.compliance.domain.rules import EU_MEMBER_STATES
from services.compliance.domain.vat import VatRate
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import NotFound, Violations
from services.shared.events import parse_payload
from services.shared.idempotency import Request, run_idempotent

UowFactory = Callable[[], ComplianceUnitOfWork]


@dataclass(frozen=True)
class CheckCommand:
    product: Product
    destinations: tuple[str, ...]
    as_of: date | None  # None: today (UTC)
    library_version: int  # 0: the version current at the end of as_of
    language: str
    merchant_code: str = ""
    field_prefix: str = ""  # "checks[3]." inside a batch, so errors name the right field


@dataclass(frozen=True)
class CheckResult:
    code: str
    outcome: Outcome
    library: LibraryVersion
    vat: VatRate | None
    hs_dataset_version: str
    checked_at: datetime
    product: Product
    language: str
    destination_names: tuple[str, str] = ("", "")  # English, Chinese (for the report heading)


M = TypeVar("M", bound=Message)

Respond = Callable[[list[list[CheckResult]]], Message]
"""Maps the results (one list per command) to the response proto that is returned and remembered."""
ReportBytes = Callable[[Message], list[list[bytes]]]
"""The serialised report of each result of a response, in the same shape, to store with each check."""


def reference_problems(command: CheckCommand, views: CheckViews, violations: Violations) -> None:
    """Add a violation for each country the loaded datasets do not know.

    Fields that are already malformed (a destination that is not two letters) are left to the syntax checks,
    so one field gets one message. An HS code the dataset lacks is not refused: the report says so
    (`hs_code_missing`).
    """
    prefix = command.field_prefix
    countries = views.countries.get().names
    origin = command.product.origin_country
    if len(origin) == 2 and origin.isupper() and origin not in countries:
        violations.add(f"{prefix}product.origin_country", f"{origin!r} is not an ISO 3166-1 alpha-2 country")
    for position, destination in enumerate(command.destinations):
        if len(destination) == 2 and destination.isupper() and destination not in countries:
            violations.add(f"{prefix}destinations[{position}]", f"{destination!r} is not an ISO 3166-1 alpha-2 country")


def hs_code_missing(hs_code: str, views: CheckViews) -> str:
    """What a report must say when the HS dataset lacks the product's 6-digit code ("" when it has it)."""
    dataset = views.hs.get()
    if len(hs_code) != 6 or hs_code in dataset.codes:
        return ""
    return (
        f"product.hs_code: {hs_code} is not an HS 2022 subheading in the HS dataset ({dataset.version[:12]}); "
        f"rules were matched on its chapter {hs_code[:2]} and heading {hs_code[:4]} only, so a rule scoped to "
        "a subheading may be missed; correct the code, or import an HS dataset that has it"
    )


def validate_references(command: CheckCommand, views: CheckViews) -> None:
    violations = Violations()
    reference_problems(command, views, violations)
    violations.raise_if_any()


def _library_for(repository: LibraryRepository, command: CheckCommand, day: date) -> LibraryVersion:
    if command.library_version:
        found = repository.get(command.library_version)
        if found is None:
            raise NotFound(
                f"no rule library version {command.library_version}", field=f"{command.field_prefix}library_version"
            )
        return found
    versions = repository.versions()
    if not versions:
        raise NotFound("no rule library has been published yet; run `xborder rules publish`")
    # Before the first publication there was no report to reproduce: the first version is the best record.
    return version_current_at(versions, min(end_of_day(day, UTC), utcnow())) or versions[0]


def _run(uow: ComplianceUnitOfWork, command: CheckCommand, views: CheckViews, now: datetime) -> list[CheckResult]:
    validate_references(command, views)
    day = command.as_of or now.date()
    library = _library_for(uow.library, command, day)
    compiled = views.libraries.get(library.version, uow.library.rules)
    covered = compiled.destinations()
    national = compiled.national_markets()
    rates = views.rates.get()
    vat = views.vat.get()
    hs_version = views.hs.get().version
    zone = command.merchant_code[2] if command.merchant_code else "G"
    names = views.countries.get().names
    unknown_code = hs_code_missing(command.product.hs_code, views)
    results = []
    for destination in command.destinations:
        # A threshold without a rate leaves its rule undetermined in the outcome; the rest of the report stands.
        if destination not in covered:
            outcome = no_rules(destination, day, library.version, covered)
        else:
            outcome = compiled.check(command.product, destination, day, rates)
            if destination not in national:
                outcome = worldwide_only(outcome, library.version)
        if unknown_code:
            outcome = replace(outcome, missing=(*outcome.missing, unknown_code))
        results.append(
            CheckResult(
                codes.generate("HG", zone, at=now),
                outcome,
                library,
                vat.standard(destination, day) if destination in EU_MEMBER_STATES else None,
                hs_version,
                now,
                command.product,
                command.language,
                names.get(destination, (destination, destination)),
            )
        )
    return results


def check_products(
    uow_factory: UowFactory,
    views: CheckViews,
    commands: Sequence[CheckCommand],
    respond: Respond,
    report_bytes: ReportBytes,
    request: Request,
    response_type: type[M],
) -> M:
    """Check every command, store every report, remember the response under the request; replay on retry."""

    def work(uow: ComplianceUnitOfWork) -> M:
        now = utcnow()
        results = [_run(uow, command, views, now) for command in commands]
        response = respond(results)
        assert isinstance(response, response_type)
        for command, group, reports in zip(commands, results, report_bytes(response), strict=True):
            for result, report in zip(group, reports, strict=True):
                if result.outcome.verdict == UNDETERMINED:
                    continue  # no rules judged it: nothing for a later re-check to compare against
                uow.checks.add(
                    code=result.code,
                    merchant_code=command.merchant_code,
                    destination=result.outcome.destination,
                    hs_code=command.product.hs_code,
                    verdict=result.outcome.verdict,
                    as_of=result.outcome.as_of,
                    library_version=result.library.version,
                    language=command.language,
                    product=command.product.to_document(),
                    report=report,
                    checked_at=now,
                )
        return response

    return run_idempotent(uow_factory, request, response_type, work)


def evaluate(uow_factory: UowFactory, views: CheckViews, command: CheckCommand) -> list[CheckResult]:
    """Check without storing anything (the bulk CLI's dry runs, the benchmark's end-to-end figure)."""
    with uow_factory() as uow:
        return _run(uow, command, views, utcnow())


@dataclass(frozen=True)
class Recheck:
    check_code: str
    merchant_code: str
    destination: str
    old_verdict: str
    new_verdict: str

    @property
    def worsened(self) -> bool:
        return worse(self.new_verdict, self.old_verdict)


def recheck_products(
    uow_factory: UowFactory,
    views: CheckViews,
    version: int,
    destinations: set[str],
    hs_prefixes: set[str] | None,
) -> list[Recheck]:
    """Re-check the stored checks a library change affects, against `version` as of today.

    `hs_prefixes` None means a changed rule covers all goods. Each check's stored verdict and version
    are updated; the list says which verdicts changed (the risk-alert worker raises alerts for `worsened`).
    """
    with uow_factory() as uow:
        out = recheck_in(uow, views, version, destinations, hs_prefixes)
        uow.commit()
    return out


def product_key(merchant_code: str, destination: str, document: str) -> tuple[str, str, str]:
    """What makes two stored checks the same product in the same market: its GTIN, else its title, else
    everything stated about it. A later check of the same key supersedes the earlier one."""
    data = json.loads(document)
    identity = data.get("gtin") or data.get("title", "").strip().casefold() or document
    return merchant_code, destination, identity


def recheck_in(
    uow: ComplianceUnitOfWork, views: CheckViews, version: int, destinations: set[str], hs_prefixes: set[str] | None
) -> list[Recheck]:
    """`recheck_products` inside the caller's transaction (the alert handler commits alerts with it).

    Only the latest check per (merchant, product, destination) is re-checked: an earlier one describes a
    product state the merchant has since replaced (docs/risk-alerts.md).
    """
    today = utcnow().date()
    out: list[Recheck] = []
    compiled = views.libraries.get(version, uow.library.rules)
    checks = uow.checks
    rates = views.rates.get()
    latest: dict[tuple[str, str, str], Any] = {}
    for row in checks.affected(destinations, hs_prefixes):  # oldest first: a later row replaces its key
        latest[product_key(row.merchant_code, row.destination, row.product)] = row
    for row in sorted(latest.values(), key=lambda r: (r.checked_at, r.code)):
        product = Product.from_document(json.loads(row.product))
        outcome = compiled.check(product, row.destination, today, rates)
        out.append(Recheck(row.code, row.merchant_code, row.destination, row.verdict, outcome.verdict))
        if outcome.verdict != row.verdict or row.library_version != version:
            checks.update_verdict(row.code, outcome.verdict, version, row.report)
    return out


def affected_by(changes: Sequence[Any]) -> tuple[set[str], set[str] | None]:
    """Destinations and HS prefixes (None: all goods) the changes of a `rules_published` event touch."""
    destinations: set[str] = set()
    prefixes: set[str] | None = set()
    for change in changes:
        destinations.update(change.destinations)
        if not change.hs_scope:
            prefixes = None
        elif prefixes is not None:
            prefixes.update(change.hs_scope)
    return destinations, prefixes


def recheck_after_publication(uow_factory: UowFactory, views: CheckViews, payload: dict[str, Any]) -> list[Recheck]:
    """The re-check a `rules_published` event calls for (the hook for the risk-alert worker)."""
    message = parse_payload(payload, events_pb2.RulesPublished)
    destinations, prefixes = affected_by(message.changes)
    if not destinations:
        return []
    return recheck_products(uow_factory, views, message.version, destinations, prefixes)


@dataclass(frozen=True)
class StoredCheck:
    code: str
    merchant_code: str
    destination: str
    report: bytes  # the ComplianceReport as sent
    battery_attributes: dict[str, Any]  # the product's battery_* and lithium_* attributes, by name


def is_battery_attribute(name: str) -> bool:
    return name.startswith(("battery_", "lithium_")) or name == "button_cell_battery"


def get_check(uow_factory: UowFactory, code: str) -> StoredCheck:
    """One stored check; NotFound naming `code` when there is none."""
    with uow_factory() as uow:
        row = uow.checks.get(code)
    if row is None:
        raise NotFound(f"no product check {code}", field="code")
    attributes = Product.from_document(json.loads(row.product)).attributes
    return StoredCheck(
        row.code,
        row.merchant_code,
        row.destination,
        bytes(row.report),
        {name: value for name, value in sorted(attributes.items()) if is_battery_attribute(name)},
    )
