"""`xborder rules ...`: import, diff, publish, list and show the compliance rule library (in-process, local DB).

Like `xborder import`, these run against the database the settings name (XB_VAR_DIR / XB_DATABASE_URL);
events a publication emits wait in compliance's outbox until a running platform's relay publishes them.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli.context import service_context
from services.shared.errors import XborderError

app = typer.Typer(
    help="Maintain the compliance rule library (import, diff, publish, list, show).", no_args_is_help=True
)
console = Console()


def _fail(error: Exception, what: str) -> typer.Exit:
    from services.compliance.domain.library import PackErrors

    if isinstance(error, PackErrors):
        console.print(f"[red]{what}: {len(error.problems)} problem(s), nothing staged or published[/red]")
        for problem in error.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        return typer.Exit(1)
    console.print(f"[red]{what}:[/red] {getattr(error, 'message', error)}", highlight=False)
    return typer.Exit(1)


def _countries(codes: tuple[str, ...] | list[str]) -> str:
    """A destination list short enough for a table cell: rules for every market list ~250 countries."""
    return ", ".join(codes) if len(codes) <= 12 else f"{len(codes)} countries ({', '.join(codes[:3])}, ...)"


def _changes_table(changes: list, title: str) -> Table:
    table = Table(title=title)
    for column in ("change", "rule", "version", "HS scope", "destinations"):
        table.add_column(column)
    colours = {"added": "green", "changed": "yellow", "removed": "red"}
    for change in changes:
        colour = colours[change.change]
        destinations = _countries(change.destinations)
        table.add_row(
            f"[{colour}]{change.change}[/{colour}]",
            change.code,
            str(change.version or "-"),
            ", ".join(change.hs_scope) or "all goods",
            destinations,
        )
    return table


@app.command("import")
def import_(directory: Path = typer.Argument(..., help="Directory of rule packs (*.yaml).")) -> None:
    """Validate every pack and stage it as the draft (nothing is staged if any pack is invalid)."""
    from services.compliance.domain.library import PackErrors
    from services.compliance.service_layer import rule_library

    with service_context("compliance") as context:
        try:
            staged = rule_library.stage_draft(context.uow, directory.resolve(), context.settings.data_dir)
        except (PackErrors, XborderError) as error:
            raise _fail(error, "import failed") from None
    console.print(
        f"staged {len(staged.draft.rules)} rules from {len(staged.draft.packs)} packs "
        f"(digest {staged.draft.packs_digest[:12]}); {len(staged.changes)} change(s) against the published version"
    )
    if staged.changes:
        console.print(_changes_table(staged.changes, "draft vs published"))


@app.command()
def diff() -> None:
    """Show the staged draft against the published version: added, changed and removed rules."""
    from services.compliance.service_layer import rule_library

    with service_context("compliance") as context:
        try:
            staged = rule_library.diff_draft(context.uow)
        except XborderError as error:
            raise _fail(error, "diff") from None
    if not staged.changes:
        console.print("the draft is identical to the published version")
        return
    console.print(_changes_table(staged.changes, "draft vs published"))


@app.command()
def publish() -> None:
    """Publish the staged draft as a new library version (emits rules_published through the outbox)."""
    from services.compliance.service_layer import rule_library

    with service_context("compliance") as context:
        try:
            version, changes = rule_library.publish_draft(context.uow)
        except XborderError as error:
            raise _fail(error, "publish refused") from None
    console.print(
        f"published library version {version.version} ({version.code}) with {version.rule_count} rules; "
        f"{len(changes)} rule(s) changed"
    )
    if changes:
        console.print(_changes_table(changes, f"version {version.version}"))


@app.command("list")
def list_() -> None:
    """List the published library versions."""
    from services.compliance.service_layer import rule_library

    with service_context("compliance") as context:
        versions = rule_library.list_versions(context.uow)
    if not versions:
        console.print("no rule library version has been published")
        return
    table = Table(title="rule library versions")
    for column in ("version", "code", "published at (UTC)", "rules", "packs"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            str(v.version), v.code, v.published_at.strftime("%Y-%m-%d %H:%M:%S"), str(v.rule_count), ", ".join(v.packs)
        )
    console.print(table)


@app.command()
def show(
    version: int = typer.Option(0, help="Library version (default: the current one)."),
    destination: str = typer.Option("", help="Only rules applying to this country (alpha-2)."),
    rule: str = typer.Option("", help="Show one rule code in full."),
) -> None:
    """Show the rules of a library version."""
    from services.compliance.service_layer import rule_library

    with service_context("compliance") as context:
        try:
            listing = rule_library.list_rules(context.uow, version, destination.upper())
        except XborderError as error:
            raise _fail(error, "show") from None
    rules = [s for s in listing.rules if not rule or s.rule.code == rule]
    if rule and not rules:
        console.print(f"[red]--rule:[/red] no rule {rule!r} in version {listing.library.version}")
        raise typer.Exit(1)
    table = Table(title=f"library version {listing.library.version} ({listing.library.code}): {len(rules)} rules")
    for column in ("rule", "v", "severity", "requirement", "destinations", "HS", "in force", "recorded", "verified"):
        table.add_column(column)
    for stored in rules:
        r = stored.rule
        table.add_row(
            r.code,
            str(r.version),
            r.severity,
            f"{r.requirement.kind} {r.requirement.code}".strip(),
            _countries(r.destinations),
            ", ".join(r.hs_scope) or "all",
            f"{r.effective_from} .. {r.effective_to or ''}",
            f"v{stored.recorded_in}" + (f"-v{stored.superseded_in}" if stored.superseded_in else ""),
            "yes" if r.verified else "[yellow]no[/yellow]",
        )
    console.print(table)
    if rule:
        r = rules[0].rule
        console.print(f"{r.title.get('en')} / {r.title.get('zh-CN')}", highlight=False)
        console.print(f"requirement: {r.requirement.text.get('en')}", highlight=False)
        console.print(f"source: {r.source_title} <{r.source_url}>", highlight=False)
        if r.note:
            console.print(f"note: {r.note}", highlight=False)
