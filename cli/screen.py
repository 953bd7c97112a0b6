"""`xborder screen NAME`: screen a party against the lists loaded in this installation's database.

It reads the compliance database directly (as `xborder import` does), screens in this process with the
imported thresholds (or their XB_SCREENING_* override), and stores nothing: an operator's look-up, not a
merchant's screening.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cli.context import service_context
from services.compliance.domain.matching import Query
from services.compliance.domain.sanctions import PartyType
from services.compliance.domain.screening import OVERRIDDEN, Decision, parse_country, parse_date_of_birth
from services.compliance.settings import ScreeningSettings
from services.shared.clock import utcnow
from services.shared.errors import ConfigurationError, ReferenceDataMissing

console = Console()

TYPES = {"person": PartyType.PERSON, "company": PartyType.COMPANY, "vessel": PartyType.VESSEL, "any": PartyType.UNKNOWN}
COLOURS = {Decision.CLEAR: "green", Decision.REVIEW: "yellow", Decision.BLOCK: "red"}


def screen(
    name: str = typer.Argument(..., help="The party's name, in any script."),
    country: str = typer.Option(None, help="ISO 3166-1 alpha-2 country, e.g. IR."),
    dob: str = typer.Option(None, help="Date of birth YYYY-MM-DD."),
    party_type: str = typer.Option("any", "--type", help="person, company, vessel or any."),
) -> None:
    """Screen a party against the loaded sanctions lists and print the hits and the decision."""
    from services.compliance import bootstrap
    from services.compliance.service_layer.screening import preview_screening

    try:
        ScreeningSettings.from_env()  # a wrong override is an option error, before the database is opened
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None
    problems: list[str] = []
    if party_type not in TYPES:
        problems.append(f"--type: must be one of {', '.join(TYPES)}, got {party_type!r}")
    try:
        country = parse_country(country) if country else ""
    except ValueError as bad_country:
        problems.append(f"--country: {bad_country}")
    try:
        dob = parse_date_of_birth(dob, utcnow().date()) if dob else ""
    except ValueError as bad_dob:
        problems.append(f"--dob: {bad_dob}")
    if not name.strip():
        problems.append("NAME: required")
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    with service_context("compliance", publishes=False) as context:
        query = Query(name.strip(), TYPES[party_type], country or "", dob or "")
        try:
            result = preview_screening(bootstrap.screening_index(context), query)
        except ReferenceDataMissing as error:
            console.print(f"[red]not screened:[/red] {error.message}")
            raise typer.Exit(1) from None
    table = Table(title=f"screening of {name!r}")
    for column in ("score", "list", "entry", "matched name", "fields", "programs", "countries", "dob"):
        table.add_column(column)
    for hit in result.hits:
        entry = hit.entry
        table.add_row(
            f"{hit.score:.3f}",
            entry.list_name,
            entry.entry_id,
            hit.matched_name + (" (alias)" if hit.is_alias else ""),
            ", ".join(hit.matched_fields),
            ", ".join(entry.programs),
            ", ".join(entry.countries),
            ", ".join(entry.dates_of_birth[:3]),
        )
    console.print(table)
    for hit in result.hits:
        if hit.parts:
            how = ", ".join(_part(p.query_part, p.entry_part, p.how) for p in hit.parts)
            console.print(f"  {hit.entry.list_name}:{hit.entry.entry_id} name parts: {how}")
    for info in result.lists:
        published = info.published_on or "date not stated"
        console.print(f"  {info.list_name}: {info.entry_count} entries, {published}, version {info.version[:12]}")
    thresholds = result.thresholds
    source = "XB_SCREENING_* override" if thresholds.version == OVERRIDDEN else f"version {thresholds.version[:12]}"
    console.print(f"  thresholds: {source}; name variants: version {result.name_variants_version[:12]}")
    colour = COLOURS[result.decision]
    console.print(
        f"decision: [bold {colour}]{result.decision.name}[/bold {colour}] "
        f"(block >= {thresholds.block}, review >= {thresholds.review})"
    )


def _part(query_part: str, entry_part: str, how: str) -> str:
    """One name part's match for the table: "husayn~hussein (variant)", "mohamed (unmatched)"."""
    if how == "unmatched":
        return f"{query_part or entry_part} (unmatched)"
    return f"{query_part}~{entry_part} ({how})"
