"""`xborder compliance check-catalog`: check a catalog file (CSV or JSONL) for several markets.

Runs in-process against the local database through the same servicer the API uses (ADR 0010), so a row
is validated, checked and stored exactly as `POST /v1/compliance/checks` would; each row's request id is
derived from the file's digest and row number, so running the same file again replays instead of storing
every check twice.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from google.type import money_pb2
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.compliance import i18n
from services.compliance.domain import product as vocabulary
from services.shared.errors import NotFound, ValidationError, XborderError

app = typer.Typer(help="Compliance checks from the command line.", no_args_is_help=True)
console = Console()

PRODUCT_COLUMNS = ("title", "hs_code", "gtin", "origin_country", "weight_kg", "target_age_group")
LIST_COLUMNS = ("certifications", "label_languages")
VALUE_COLUMNS = ("declared_value", "currency")
ID_COLUMNS = ("sku", "id")
VERDICTS = ("ALLOWED", "ALLOWED_WITH_CONDITIONS", "RESTRICTED", "PROHIBITED", "UNDETERMINED")


class RowProblem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value or "")
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _attribute_text(name: str, value: Any) -> str:
    """An attribute as the API's text form: lists comma-separated (the catalog may use ; or ,)."""
    if vocabulary.ATTRIBUTES.get(name) == vocabulary.TEXT_LIST:
        return ",".join(_split(value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) for each row: CSV rows count from 2 (the header is row 1), JSONL lines from 1."""
    if path.suffix.lower() == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    yield number, {"__error__": f"not JSON: {error.msg}"}
                    continue
                yield number, record if isinstance(record, dict) else {"__error__": "not a JSON object"}
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for number, record in enumerate(reader, start=2):
            if None in record:
                yield number, {"__error__": "more cells than the header has columns"}
                continue
            yield number, {k: v for k, v in record.items() if v not in (None, "")}


def _money(record: dict[str, Any]) -> money_pb2.Money | None:
    raw = record.get("declared_value")
    if raw in (None, ""):
        if record.get("currency"):
            raise RowProblem("declared_value", "is required when currency is given")
        return None
    currency = record.get("currency", "")
    if isinstance(raw, dict):
        currency = raw.get("currency", currency)
        raw = raw.get("amount")
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise RowProblem("declared_value", f"{raw!r} is not a decimal number") from None
    if not amount.is_finite():
        raise RowProblem("declared_value", "must be a finite number")
    units = int(amount)
    return money_pb2.Money(currency_code=str(currency or ""), units=units, nanos=int((amount - units) * 1_000_000_000))


def to_request(record: dict[str, Any], markets: list[str], as_of: date | None, language: str, request_id: str) -> Any:
    from xborder.compliance.v1 import product_compliance_service_pb2 as pb

    if "__error__" in record:
        raise RowProblem("row", record["__error__"])
    attributes = dict(record.get("attributes") or {})
    for key, value in record.items():
        if key in vocabulary.ATTRIBUTES:
            attributes[key] = value
        elif key not in (*PRODUCT_COLUMNS, *LIST_COLUMNS, *VALUE_COLUMNS, *ID_COLUMNS, "attributes"):
            raise RowProblem(key, "is not a catalog column or product attribute")
    product = pb.Product(
        **{k: str(record[k]) for k in PRODUCT_COLUMNS if k in record},
        certifications=_split(record.get("certifications")),
        label_languages=_split(record.get("label_languages")),
        attributes=[pb.Attribute(name=k, value=_attribute_text(k, v)) for k, v in sorted(attributes.items())],
    )
    value = _money(record)
    if value is not None:
        product.declared_value.CopyFrom(value)
    request = pb.CheckProductRequest(request_id=request_id, product=product, destinations=markets, language=language)
    if as_of:
        request.as_of.year, request.as_of.month, request.as_of.day = as_of.year, as_of.month, as_of.day
    return request


def _field(name: str) -> str:
    """The catalog column a request field came from: product.hs_code -> hs_code."""
    name = name.removeprefix("product.")
    if name == "declared_value.currency_code":
        return "currency"
    return "declared_value" if name.startswith("declared_value") else name


def _regime(regime: Any) -> dict[str, Any]:
    """A tax regime as a results line shows it: whether it applies, and the rate it was judged at."""
    shown: dict[str, Any] = {
        "code": regime.rule_code,
        "applies": regime.applies,
        "determined": regime.determined,
        "uncertain": regime.uncertain,
        "verified": regime.verified,
    }
    if regime.HasField("rate_used"):
        used = regime.rate_used
        day = used.rate_date
        shown["rate"] = {
            "pair": f"{used.source_currency}/{used.target_currency}",
            "rate": used.rate,
            "date": f"{day.year:04d}-{day.month:02d}-{day.day:02d}",
            "age_days": used.age_days,
            "stale": used.stale,
        }
    return shown


@app.command("check-catalog")
def check_catalog(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Catalog as .csv (header row) or .jsonl."),
    market: list[str] = typer.Option(..., "--market", "-m", help="Destination country (alpha-2); repeat for more."),
    output: Path = typer.Option(None, help="Per-row results (JSONL); default FILE.results.jsonl beside the file."),
    as_of: str = typer.Option("", help="Check the rules in force on this date (YYYY-MM-DD; default today)."),
    language: str = typer.Option("en", help="Report language: en or zh-CN."),
    merchant: str = typer.Option("", help="Merchant unified code (MC...) stored with each check."),
) -> None:
    """Check every product of a catalog for each market; bad rows are reported and the others still checked."""
    from cli.context import service_context
    from services.compliance.adapters.reference_views import check_views
    from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer

    markets = [m.strip().upper() for m in market]
    day = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            console.print(f"[red]--as-of:[/red] {as_of!r} is not a date (YYYY-MM-DD)")
            raise typer.Exit(2) from None
    if file.suffix.lower() not in (".csv", ".jsonl"):
        console.print(f"[red]FILE:[/red] {file.name} must end in .csv or .jsonl")
        raise typer.Exit(2)
    target = output or file.with_name(file.name + ".results.jsonl")
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:16]
    key_suffix = hashlib.sha256(f"{markets}|{as_of}|{language}|{merchant}".encode()).hexdigest()[:8]
    total = sum(1 for _ in read_rows(file))
    counts: Counter[tuple[str, str]] = Counter()
    bad = 0
    incomplete = 0
    with service_context("compliance") as context, target.open("w", encoding="utf-8") as out:
        servicer = ProductComplianceServicer(context.uow, check_views(context))
        with Progress(
            TextColumn("checking {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(file.name, total=total)
            for number, record in read_rows(file):
                sku = str(record.get("sku") or record.get("id") or "")
                try:
                    request = to_request(record, markets, day, language, f"catalog-{digest}-{key_suffix}-{number}")
                    if merchant:
                        request.merchant_code = merchant
                    response = servicer.CheckProduct(request, None)  # type: ignore[arg-type]
                except RowProblem as problem:
                    bad += 1
                    out.write(
                        json.dumps({"row": number, "sku": sku, "errors": {problem.field: problem.message}}) + "\n"
                    )
                except (ValidationError, NotFound) as error:
                    if not error.violations:  # no library, no dataset: no row can be checked
                        progress.stop()
                        console.print(f"[red]check-catalog stopped at row {number}:[/red] {error.message}")
                        raise typer.Exit(1) from None
                    bad += 1
                    errors = {_field(v.field): v.description for v in error.violations} or {"row": error.message}
                    out.write(json.dumps({"row": number, "sku": sku, "errors": errors}, ensure_ascii=False) + "\n")
                except XborderError as error:
                    progress.stop()
                    console.print(f"[red]check-catalog stopped at row {number}:[/red] {error.message}")
                    raise typer.Exit(1) from None
                else:
                    for report in response.reports:
                        verdict = VERDICTS[report.verdict - 1]
                        counts[(report.destination, verdict)] += 1
                        incomplete += not report.complete
                        unmet = [f.rule_code for f in report.findings if not f.satisfied]
                        out.write(
                            json.dumps(
                                {
                                    "row": number,
                                    "sku": sku,
                                    "market": report.destination,
                                    "verdict": verdict,
                                    "report": report.code,
                                    "library_version": report.library_version,
                                    "unmet": unmet,
                                    "tax_regimes": [_regime(t) for t in report.tax_regimes],
                                    "complete": report.complete,
                                    "missing": list(report.missing),
                                    "contains_unverified_rules": report.contains_unverified_rules,
                                },
                                ensure_ascii=False,
                            )
                            + "\n"
                        )
                progress.advance(task)
    table = Table(title=f"{file.name}: {total} rows, {bad} rejected")
    table.add_column("market")
    translate = i18n.gettext_for(language) if language in i18n.LANGUAGES else i18n.gettext_for("en")
    for verdict in VERDICTS:
        table.add_column(translate(i18n.VERDICT_NAMES[verdict]), justify="right")
    for m in markets:
        table.add_row(m, *(str(counts[(m, v)]) for v in VERDICTS))
    console.print(table)
    if bad:
        console.print(f"[yellow]{bad} row(s) rejected; see {target} (row numbers and fields)[/yellow]")
    if incomplete:
        console.print(f'[yellow]{incomplete} report(s) incomplete; see "missing" in {target}[/yellow]')
    console.print(f"results: {target}")
