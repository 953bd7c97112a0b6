"""ProductComplianceService servicer: validate each request once, call the handlers, render the reports.

Reports render in the request's language: fixed strings from the Babel catalogs (services/compliance/i18n),
rule titles and requirement texts from the packs' en / zh-CN fields, money in the locale's format.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import grpc
from google.protobuf.message import Message
from google.type import date_pb2
from xborder.compliance.v1 import product_compliance_service_pb2 as pb
from xborder.compliance.v1 import product_compliance_service_pb2_grpc as pb_grpc

from services.compliance import i18n
from services.compliance.adapters.reference_views import CheckViews
from services.compliance.domain import hs, product
from services.compliance.domain.engine import ValueJudgement
from services.compliance.domain.fx import RateUsed
from services.compliance.domain.library import LibraryVersion, StoredRule
from services.compliance.domain.rules import Rule
from services.compliance.service_layer import product_checks, rule_library
from services.shared import codes, money
from services.shared import request_fields as fields
from services.shared.errors import ValidationError, Violations
from services.shared.idempotency import Request, fingerprint

CHECK_CODE_TYPE = "HG"  # a product check's report code
MAX_DESTINATIONS = 30
MAX_BATCH = 100
_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def _to_date(message: date_pb2.Date) -> date | None:
    if not (message.year or message.month or message.day):
        return None
    return date(message.year, message.month, message.day)


def date_proto(day: date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def parse_country(value: str, field: str, violations: Violations) -> str:
    """An optional ISO 3166-1 alpha-2 code, trimmed and upper-cased as every country field is read."""
    code = value.strip().upper()
    if code and not _ALPHA2.match(code):
        violations.add(field, f"must be an ISO 3166-1 alpha-2 code, got {value!r}")
    return code


def parse_product(message: pb.Product, violations: Violations, prefix: str) -> product.Product:
    field = f"{prefix}product."
    hs_code = ""
    try:
        hs_code = hs.parse_code(message.hs_code)
        if len(hs_code) != 6:
            violations.add(f"{field}hs_code", f"must be a 6-digit subheading, got the {len(hs_code)}-digit {hs_code}")
    except hs.CodeProblem as problem:
        violations.add(f"{field}hs_code", str(problem))
    if message.gtin and not codes.gtin_is_valid(message.gtin):
        violations.add(f"{field}gtin", "is not a GTIN-8/12/13/14 with a valid GS1 mod-10 check digit")
    attributes: dict[str, object] = {}
    for position, attribute in enumerate(message.attributes):
        name, raw = attribute.name, attribute.value
        if name in attributes:
            violations.add(f"{field}attributes[{position}].name", f"{name} is stated twice")
            continue
        if name not in product.ATTRIBUTES:
            violations.add(
                f"{field}attributes[{position}].name",
                f"{name!r} is not a product attribute (known: {', '.join(product.ATTRIBUTES)})",
            )
            continue
        try:
            attributes[name] = product.coerce(name, raw)
        except product.AttributeProblem as problem:
            violations.add(f"{field}attributes[{position}].value", f"{name} {problem}")
    declared = None
    if message.HasField("declared_value"):
        try:
            declared = money.from_proto(message.declared_value, field=f"{field}declared_value")
            if declared.amount < 0:
                violations.add(f"{field}declared_value", "must not be negative")
        except ValidationError as error:
            for violation in error.violations:
                violations.add(violation.field, violation.description)
    weight = None
    if message.weight_kg:
        try:
            weight = Decimal(message.weight_kg)
            if not weight.is_finite() or weight < 0:
                raise InvalidOperation
        except InvalidOperation:
            violations.add(f"{field}weight_kg", f"must be a non-negative decimal number, got {message.weight_kg!r}")
            weight = None
    if message.target_age_group and message.target_age_group not in product.AGE_GROUPS:
        violations.add(f"{field}target_age_group", f"must be one of {', '.join(product.AGE_GROUPS)}")
    for position, language in enumerate(message.label_languages):
        if not _LANGUAGE.match(language.lower()):
            violations.add(
                f"{field}label_languages[{position}]", f"must be an ISO 639-1 code such as de, got {language!r}"
            )
    for position, certification in enumerate(message.certifications):
        if not certification.strip():
            violations.add(f"{field}certifications[{position}]", "must not be empty")
    origin = parse_country(message.origin_country, f"{field}origin_country", violations)
    return product.Product(
        hs_code=hs_code,
        title=message.title,
        gtin=message.gtin,
        origin_country=origin,
        declared_value=declared,
        weight_kg=weight,
        target_age_group=message.target_age_group,
        certifications=frozenset(c.strip() for c in message.certifications),
        label_languages=frozenset(language.lower() for language in message.label_languages),  # BCP 47: any case
        attributes=attributes,
    )


def parse_check(
    request: pb.CheckProductRequest, violations: Violations, prefix: str = ""
) -> product_checks.CheckCommand:
    if not request.HasField("product"):
        violations.add(f"{prefix}product", "is required")
    parsed = parse_product(request.product, violations, prefix)
    destinations = tuple(destination.strip().upper() for destination in request.destinations)
    if not destinations:
        violations.add(f"{prefix}destinations", "at least one destination country is required")
    if len(destinations) > MAX_DESTINATIONS:
        violations.add(f"{prefix}destinations", f"at most {MAX_DESTINATIONS}, got {len(destinations)}")
    seen: set[str] = set()
    for position, destination in enumerate(destinations):
        if not _ALPHA2.match(destination):
            violations.add(
                f"{prefix}destinations[{position}]",
                f"must be an ISO 3166-1 alpha-2 code, got {request.destinations[position]!r}",
            )
        elif destination in seen:
            violations.add(f"{prefix}destinations[{position}]", f"{destination} is listed twice")
        seen.add(destination)
    as_of = None
    try:
        as_of = _to_date(request.as_of)
    except ValueError:
        violations.add(f"{prefix}as_of", "is not a calendar date")
    if request.library_version < 0:
        violations.add(f"{prefix}library_version", "must be a library version number (0 for the default)")
    try:
        language = i18n.canonical_language(request.language or i18n.DEFAULT_LANGUAGE)
    except i18n.UnknownLanguage as problem:
        violations.add(f"{prefix}language", str(problem))
        language = i18n.DEFAULT_LANGUAGE
    if request.merchant_code:
        try:
            codes.parse(request.merchant_code, field=f"{prefix}merchant_code", entity_type="MC")
        except ValidationError as error:
            for violation in error.violations:
                violations.add(violation.field, violation.description)
    return product_checks.CheckCommand(
        parsed, destinations, as_of, request.library_version, language, request.merchant_code.strip().upper(), prefix
    )


def _check_code(value: str, violations: Violations) -> str:
    return fields.unified_code(value, "code", violations, entity_type=CHECK_CODE_TYPE)


def _attribute_text(value: object) -> str:
    """An attribute as the request states it: "true"/"false", decimals as written, lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple | list | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


def _text(texts: object, language: str) -> str:
    assert isinstance(texts, dict)
    return str(texts.get(language) or texts.get("en") or "")


def _source(rule: Rule) -> pb.LegalSource:
    return pb.LegalSource(title=rule.source_title, url=rule.source_url)


_RATE_DIGITS = Decimal("1e-6")  # a cross rate shown to six decimals; the comparison used it unrounded


def _rate_used(used: RateUsed) -> pb.RateUsed:
    return pb.RateUsed(
        source_currency=used.source,
        target_currency=used.target,
        rate=format(used.rate.quantize(_RATE_DIGITS).normalize(), "f"),
        rate_date=date_proto(used.day),
        age_days=used.age_days,
        stale=used.stale,
        margin_percent=format((used.margin * 100).normalize(), "f") if used.stale else "",
    )


def _judged(item: pb.Finding | pb.TaxRegime, value: ValueJudgement) -> None:
    item.determined = value.determined
    item.uncertain = value.uncertain
    item.undetermined_reason = value.missing
    if value.rate_used is not None:
        item.rate_used.CopyFrom(_rate_used(value.rate_used))


def report_to_proto(result: product_checks.CheckResult) -> pb.ComplianceReport:
    language = result.language
    _ = i18n.gettext_for(language)
    outcome = result.outcome
    report = pb.ComplianceReport(
        code=result.code,
        destination=outcome.destination,
        verdict=pb.Verdict.Value(f"VERDICT_{outcome.verdict}"),  # type: ignore[arg-type]
        verdict_text=_(i18n.VERDICT_NAMES[outcome.verdict]),
        library_version=result.library.version,
        library_code=result.library.code,
        as_of=date_proto(outcome.as_of),
        hs_dataset_version=result.hs_dataset_version,
        language=language,
        heading=_(i18n.HEADING)
        % {"country": result.destination_names[1 if language == "zh-CN" else 0] or outcome.destination},
        complete=outcome.complete,
        missing=list(outcome.missing),
        contains_unverified_rules=outcome.contains_unverified_rules,
        completeness_text=_(i18n.COMPLETE)
        if outcome.complete
        else _(i18n.INCOMPLETE) % {"count": len(outcome.missing)},
    )
    report.checked_at.FromDatetime(result.checked_at)
    value = result.product.declared_value
    if value is not None:
        report.declared_value_text = i18n.money_text(value.amount, value.currency, language)
    for finding in outcome.findings:
        rule = finding.rule
        item = pb.Finding(
            rule_code=rule.code,
            rule_version=rule.version,
            severity=rule.severity,
            requirement_kind=rule.requirement.kind,
            requirement_code=rule.requirement.code,
            requirement_text=_text(rule.requirement.text, language),
            title=_text(rule.title, language),
            satisfied=finding.satisfied,
            source=_source(rule),
            effective_from=date_proto(rule.effective_from),
            verified=rule.verified,
            languages=list(rule.requirement.languages),
            note=rule.note,
        )
        _judged(item, finding.value)
        if rule.effective_to:
            item.effective_to.CopyFrom(date_proto(rule.effective_to))
        report.findings.append(item)
    for regime in outcome.tax_regimes:
        rule = regime.rule
        tax = pb.TaxRegime(
            rule_code=rule.code,
            rule_version=rule.version,
            terms=[pb.TaxTerm(key=k, value=v) for k, v in sorted((rule.requirement.tax or {}).items())],
            text=_text(rule.requirement.text, language),
            source=_source(rule),
            applies=regime.value.determined and regime.value.holds,
            verified=rule.verified,
            note=rule.note,
        )
        _judged(tax, regime.value)
        report.tax_regimes.append(tax)
    if result.vat is not None:
        report.vat.CopyFrom(
            pb.VatRate(
                country=result.vat.country,
                standard_rate_percent=format(result.vat.standard_percent, "f"),
                effective_from=date_proto(result.vat.effective_from),
                dataset_version=result.vat.dataset_version,
            )
        )
    return report


def library_to_proto(library: LibraryVersion, current: bool) -> pb.RuleLibrary:
    message = pb.RuleLibrary(
        version=library.version,
        code=library.code,
        rule_count=library.rule_count,
        packs_digest=library.packs_digest,
        packs=list(library.packs),
        current=current,
    )
    message.published_at.FromDatetime(library.published_at)
    return message


def rule_summary(stored: StoredRule) -> pb.RuleSummary:
    rule = stored.rule
    message = pb.RuleSummary(
        code=rule.code,
        version=rule.version,
        pack=rule.pack,
        title=_text(rule.title, "en"),
        destinations=list(rule.destinations),
        hs_scope=list(rule.hs_scope),
        severity=rule.severity,
        requirement_kind=rule.requirement.kind,
        effective_from=date_proto(rule.effective_from),
        recorded_in=stored.recorded_in,
        superseded_in=stored.superseded_in or 0,
        verified=rule.verified,
        source=_source(rule),
    )
    if rule.effective_to:
        message.effective_to.CopyFrom(date_proto(rule.effective_to))
    return message


def _respond(results: list[list[product_checks.CheckResult]]) -> list[pb.CheckProductResponse]:
    return [pb.CheckProductResponse(reports=[report_to_proto(r) for r in group]) for group in results]


class ProductComplianceServicer(pb_grpc.ProductComplianceServiceServicer):
    def __init__(self, uow_factory: product_checks.UowFactory, views: CheckViews) -> None:
        self.uow_factory: product_checks.UowFactory = uow_factory
        self.views = views

    def CheckProduct(self, request: pb.CheckProductRequest, context: grpc.ServicerContext) -> pb.CheckProductResponse:
        violations = Violations()
        command = parse_check(request, violations)
        product_checks.reference_problems(command, self.views, violations)  # every mistake in one answer
        violations.raise_if_any()

        def respond(results: list[list[product_checks.CheckResult]]) -> Message:
            return _respond(results)[0]

        def report_bytes(response: Message) -> list[list[bytes]]:
            assert isinstance(response, pb.CheckProductResponse)
            return [[r.SerializeToString() for r in response.reports]]

        return product_checks.check_products(
            self.uow_factory,
            self.views,
            [command],
            respond,
            report_bytes,
            Request("compliance.CheckProduct", request.request_id, fingerprint(request)),
            pb.CheckProductResponse,
        )

    def BatchCheckProducts(
        self, request: pb.BatchCheckProductsRequest, context: grpc.ServicerContext
    ) -> pb.BatchCheckProductsResponse:
        violations = Violations()
        if not request.checks:
            violations.add("checks", "at least one check is required")
        if len(request.checks) > MAX_BATCH:
            violations.add("checks", f"at most {MAX_BATCH} checks per batch, got {len(request.checks)}")
        commands = [parse_check(check, violations, f"checks[{i}].") for i, check in enumerate(request.checks)]
        for command in commands:
            product_checks.reference_problems(command, self.views, violations)
        violations.raise_if_any()

        def respond(results: list[list[product_checks.CheckResult]]) -> Message:
            return pb.BatchCheckProductsResponse(results=_respond(results))

        def report_bytes(response: Message) -> list[list[bytes]]:
            assert isinstance(response, pb.BatchCheckProductsResponse)
            return [[r.SerializeToString() for r in group.reports] for group in response.results]

        return product_checks.check_products(
            self.uow_factory,
            self.views,
            commands,
            respond,
            report_bytes,
            Request("compliance.BatchCheckProducts", request.request_id, fingerprint(request)),
            pb.BatchCheckProductsResponse,
        )

    def GetProductCheck(
        self, request: pb.GetProductCheckRequest, context: grpc.ServicerContext
    ) -> pb.GetProductCheckResponse:
        code = fields.parsed(_check_code, request.code)
        stored = product_checks.get_check(self.uow_factory, code)
        return pb.GetProductCheckResponse(
            report=pb.ComplianceReport.FromString(stored.report),
            merchant_code=stored.merchant_code,
            battery_attributes=[
                pb.Attribute(name=name, value=_attribute_text(value))
                for name, value in stored.battery_attributes.items()
            ],
        )

    def GetRuleLibrary(
        self, request: pb.GetRuleLibraryRequest, context: grpc.ServicerContext
    ) -> pb.GetRuleLibraryResponse:
        if request.version < 0:
            raise ValidationError.single("version", "must be a library version number (0 for the current one)")
        library = rule_library.get_library(self.uow_factory, request.version)
        latest = rule_library.get_library(self.uow_factory)
        return pb.GetRuleLibraryResponse(library=library_to_proto(library, library.version == latest.version))

    def ListRules(self, request: pb.ListRulesRequest, context: grpc.ServicerContext) -> pb.ListRulesResponse:
        violations = Violations()
        if request.library_version < 0:
            violations.add("library_version", "must be a library version number (0 for the current one)")
        destination = parse_country(request.destination, "destination", violations)
        violations.raise_if_any()
        listing = rule_library.list_rules(self.uow_factory, request.library_version, destination)
        return pb.ListRulesResponse(
            rules=[rule_summary(s) for s in listing.rules], library_version=listing.library.version
        )
