"""`xborder transfer-rules`: the cross-border transfer rule table, kill switches and legal bases on file.

The commands call the identity service's use cases in this process, on its database, like `xborder
merchants`. A running gateway sees a change within its policy cache time (XB_TRANSFER_POLICY_TTL_S,
default 1 s); changes made through the gateway's own RPCs show on its next request.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.table import Table
from xborder.identity.v1 import transfer_rules_service_pb2 as pb

from cli.context import call_in_process, console

app = typer.Typer(help="Cross-border transfer rules, kill switches and legal bases.", no_args_is_help=True)
bases_app = typer.Typer(help="The legal bases a merchant has on file.", no_args_is_help=True)
app.add_typer(bases_app, name="bases")

M = TypeVar("M", bound=Message)


def _call(method: Callable[[Any], M]) -> M:
    from services.identity.bootstrap import transfer_servicer  # here, so `xborder --help` stays light

    return call_in_process("identity", lambda context: method(transfer_servicer(context)))


def _plain(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _strip(name: str, prefix: str) -> str:
    return name.removeprefix(prefix)


def _rule_yaml(rule: pb.TransferRule) -> dict[str, Any]:
    body = _plain(rule)
    body["data_class"] = _strip(str(body.get("data_class", "")), "DATA_CLASS_")
    for key in ("action", "otherwise"):
        if key in body:
            body[key] = _strip(str(body[key]), "TRANSFER_ACTION_")
    for key in ("any_of", "all_of"):
        if key in body:
            body[key] = [_strip(str(b), "LEGAL_BASIS_KIND_") for b in body[key]]
    return body


def _enum_name(value: Any, prefix: str, names: list[str], rule_id: str) -> str:
    name = f"{prefix}{str(value).strip().upper()}"
    if name not in names:
        console.print(f"[red]rule {rule_id}:[/red] unknown value {value!r}", highlight=False)
        raise typer.Exit(2)
    return name


def _rule_proto(body: dict[str, Any]) -> pb.TransferRule:
    """A rule from the YAML form (enum names without prefixes)."""
    rule_id = str(body.get("rule_id", ""))
    actions, kinds = list(pb.TransferAction.keys()), list(pb.LegalBasisKind.keys())
    return pb.TransferRule(
        rule_id=rule_id,
        origin=str(body.get("origin", "")),
        data_class=f"DATA_CLASS_{str(body.get('data_class', '')).upper()}",  # type: ignore[arg-type]
        destination=str(body.get("destination", "")),
        action=_enum_name(body.get("action", ""), "TRANSFER_ACTION_", actions, rule_id),
        any_of=[_enum_name(b, "LEGAL_BASIS_KIND_", kinds, rule_id) for b in body.get("any_of") or ()],
        all_of=[_enum_name(b, "LEGAL_BASIS_KIND_", kinds, rule_id) for b in body.get("all_of") or ()],
        otherwise=_enum_name(body.get("otherwise") or "BLOCK", "TRANSFER_ACTION_", actions, rule_id),
        min_persons=int(body.get("min_persons") or 0),
        source=str(body.get("source", "")),
        source_read_on=str(body.get("source_read_on", "")),
        uncertain=str(body.get("uncertain") or ""),
    )


@app.command("show")
def show(
    version: int = typer.Option(0, "--version", help="A past version (default: the current one)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The rule table (and the kill switches engaged now)."""
    policy = _call(lambda s: s.GetTransferPolicy(pb.GetTransferPolicyRequest(version=version), None)).policy
    if as_json:
        print(json.dumps(json_format.MessageToDict(policy)))
        return
    console.print(f"version {policy.version}, published by {policy.published_by}: {policy.reason}", highlight=False)
    table = Table()
    for column in ("rule", "origin", "class", "destination", "from persons", "action", "uncertain"):
        table.add_column(column)
    for rule in policy.rules:
        y = _rule_yaml(rule)
        action = y.get("action", "")
        if action == "REQUIRE_BASIS":
            action = f"{' | '.join(y.get('any_of', []))} {'+ ' + ' + '.join(y['all_of']) if y.get('all_of') else ''}"
            action += f" else {y.get('otherwise', 'BLOCK')}"
        table.add_row(
            rule.rule_id,
            rule.origin,
            y["data_class"],
            rule.destination,
            str(rule.min_persons),
            action,
            "yes" if rule.uncertain else "",
        )
    console.print(table)
    for switch in policy.kill_switches:
        console.print(f"[red]kill switch[/red] {switch.target} {switch.value}: {switch.reason} ({switch.engaged_by})")


@app.command("export")
def export(version: int = typer.Option(0, "--version", help="A past version (default: the current one).")) -> None:
    """The rule table as YAML, to edit and publish as a new version."""
    policy = _call(lambda s: s.GetTransferPolicy(pb.GetTransferPolicyRequest(version=version), None)).policy
    document = {
        "version": policy.version,
        "published_by": policy.published_by,
        "reason": policy.reason,
        "groups": [_plain(g) for g in policy.groups],
        "rules": [_rule_yaml(r) for r in policy.rules],
    }
    print(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110))


@app.command("publish")
def publish(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A rule file (the form `export` prints)."),
    by: str = typer.Option(..., "--by", help="Who publishes it."),
    reason: str = typer.Option(..., "--reason", help="Why."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Publish the file as the next version (the previous one stays readable)."""
    document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    request = pb.PublishTransferRulesRequest(
        request_id=f"cli-{uuid.uuid4()}",
        rules=[_rule_proto(r) for r in document.get("rules") or ()],
        groups=[json_format.ParseDict(g, pb.DestinationGroup()) for g in document.get("groups") or ()],
        published_by=by,
        reason=reason,
    )
    policy = _call(lambda s: s.PublishTransferRules(request, None)).policy
    if as_json:
        print(json.dumps({"version": policy.version, "rules": len(policy.rules)}))
        return
    console.print(f"published version {policy.version} ({len(policy.rules)} rules)")


@app.command("kill-switch")
def kill_switch(
    target: str = typer.Argument(..., help="'class' or 'destination'."),
    value: str = typer.Argument(..., help="A data class (PERSONAL) or a country code (US)."),
    release: bool = typer.Option(False, "--release", help="Release the switch instead of engaging it."),
    by: str = typer.Option(..., "--by", help="Who acts."),
    reason: str = typer.Option(..., "--reason", help="Why."),
) -> None:
    """Block a data class or a destination over every rule at once (or release the block)."""
    request = pb.SetKillSwitchRequest(
        request_id=f"cli-{uuid.uuid4()}", target=target, value=value, engaged=not release, changed_by=by, reason=reason
    )
    policy = _call(lambda s: s.SetKillSwitch(request, None)).policy
    engaged = [f"{k.target} {k.value}" for k in policy.kill_switches]
    console.print(f"kill switches engaged: {', '.join(engaged) or 'none'}")


@bases_app.command("add")
def add_basis(
    merchant_code: str = typer.Argument(..., help="The merchant (MC...)."),
    kind: str = typer.Option(
        ..., "--kind", help="CONSENT, STANDARD_CONTRACT, CERTIFICATION, SECURITY_ASSESSMENT or CONTRACT_NECESSITY."
    ),
    reference: str = typer.Option(..., "--reference", help="The document's id (filing number, approval id...)."),
    destination: str = typer.Option("*", "--destination", help="A country, a group or '*'."),
    valid_from: str = typer.Option("", "--from", help="First day it holds (default today)."),
    valid_until: str = typer.Option("", "--until", help="Last day it holds (default: no end)."),
    by: str = typer.Option(..., "--by", help="Who files it."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """File a legal basis for a merchant's transfers."""
    kind_value = f"LEGAL_BASIS_KIND_{kind.strip().upper()}"
    if kind_value not in list(pb.LegalBasisKind.keys()):
        console.print(f"[red]--kind:[/red] unknown legal basis kind {kind!r}", highlight=False)
        raise typer.Exit(2)
    request = pb.RegisterLegalBasisRequest(
        request_id=f"cli-{uuid.uuid4()}",
        merchant_code=merchant_code,
        kind=kind_value,
        reference=reference,
        destination=destination,
        valid_from=valid_from,
        valid_until=valid_until,
        registered_by=by,
    )
    basis = _call(lambda s: s.RegisterLegalBasis(request, None)).legal_basis
    if as_json:
        print(json.dumps(json_format.MessageToDict(basis)))
        return
    console.print(f"legal basis {basis.basis_id} filed for {basis.merchant_code}")


@bases_app.command("list")
def list_bases(
    merchant_code: str = typer.Argument(..., help="The merchant (MC...)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The legal bases a merchant has on file."""
    answer = _call(lambda s: s.ListLegalBases(pb.ListLegalBasesRequest(merchant_code=merchant_code), None))
    if as_json:
        print(json.dumps([json_format.MessageToDict(b) for b in answer.legal_bases]))
        return
    table = Table()
    for column in ("basis", "kind", "reference", "destination", "valid", "filed by"):
        table.add_column(column)
    for b in answer.legal_bases:
        kind = pb.LegalBasisKind.Name(b.kind).removeprefix("LEGAL_BASIS_KIND_")
        table.add_row(b.basis_id, kind, b.reference, b.destination, f"{b.valid_from}..{b.valid_until}", b.registered_by)
    console.print(table)
