"""Reading rule packs: YAML files -> JSON Schema (data/rules/schema.json) -> typed rules -> cross checks.

Every problem in every file is collected before anything is staged, each naming the pack file, the rule
code and the field (dotted, with [index] for list items), so an operator fixes a directory in one pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from services.compliance.domain import product
from services.compliance.domain.conditions import OPS
from services.compliance.domain.library import PackErrors, PackProblem, Reference, cross_check
from services.compliance.domain.rules import Rule, rule_from_pack

SCHEMA_FILE = "schema.json"
PACK_SUFFIXES = (".yaml", ".yml")


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: the schema checks `effective_from` as an ISO date string."""


_TextDatesLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def pack_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in PACK_SUFFIXES and p.is_file())


def packs_digest(files: Iterable[Path]) -> str:
    """SHA-256 over the packs' names and bytes, in name order: the draft's identity."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _field_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _rule_code(document: Any, index: int) -> str:
    try:
        code = document["rules"][index].get("code", "")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return code if isinstance(code, str) else ""


def _schema_problems(name: str, document: Any, validator: jsonschema.protocols.Validator) -> list[PackProblem]:
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        code = ""
        if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
            code = _rule_code(document, path[1]) or f"rules[{path[1]}]"
            path = path[2:]
        problems.append(PackProblem(name, code, _field_path(path), error.message))
    return problems


def _vocabulary_problems(name: str, entry: dict[str, Any]) -> list[PackProblem]:
    """Conditions must name an attribute the engine exposes, with a value of its type."""
    problems = []
    for position, condition in enumerate(entry.get("conditions") or ()):
        where = f"conditions[{position}]"
        attribute, op = condition.get("attribute"), condition.get("op")
        kind = product.VOCABULARY.get(attribute)
        if kind is None:
            problems.append(
                PackProblem(name, entry["code"], f"{where}.attribute", f"{attribute!r} is not a product attribute")
            )
            continue
        if op in ("present", "absent") or op not in OPS:
            continue
        values = condition.get("value")
        if op in ("in", "not_in", "contains_any"):
            if not isinstance(values, list):
                problems.append(PackProblem(name, entry["code"], f"{where}.value", f"op {op} needs a list"))
                continue
        else:
            values = [values]
        scalar = product.TEXT if kind == product.TEXT_LIST else kind
        for value in values:
            try:
                product.coerce_scalar(scalar, value)
            except product.AttributeProblem as problem:
                problems.append(PackProblem(name, entry["code"], f"{where}.value", f"{attribute} {problem}"))
    return problems


def read_packs(directory: Path, reference: Reference, schema_path: Path) -> tuple[list[Rule], list[str], str]:
    """(rules, pack ids, digest) of every pack in `directory`; PackErrors listing every problem otherwise."""
    if not directory.is_dir():
        raise PackErrors([PackProblem(str(directory), "", "", "is not a directory")])
    if not schema_path.is_file():
        raise PackErrors([PackProblem(str(schema_path), "", "", "rule-pack schema not found")])
    validator_class = jsonschema.validators.validator_for(json.loads(schema_path.read_text("utf-8")))
    validator = validator_class(
        json.loads(schema_path.read_text("utf-8")), format_checker=validator_class.FORMAT_CHECKER
    )
    files = pack_files(directory)
    if not files:
        raise PackErrors([PackProblem(str(directory), "", "", "holds no rule packs (*.yaml)")])
    problems: list[PackProblem] = []
    parsed: list[tuple[str, Rule]] = []
    packs: list[str] = []
    for path in files:
        try:
            document = yaml.load(path.read_text("utf-8"), Loader=_TextDatesLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as error:
            problems.append(PackProblem(path.name, "", "", f"is not valid YAML: {error}"))
            continue
        found = _schema_problems(path.name, document, validator)
        if found:
            problems.extend(found)
            continue
        pack = document["pack"]
        if path.stem != pack:
            problems.append(PackProblem(path.name, "", "pack", f"pack {pack!r} must be in a file named {pack}.yaml"))
        if pack in packs:
            problems.append(PackProblem(path.name, "", "pack", f"pack {pack!r} is defined twice"))
        packs.append(pack)
        for entry in document["rules"]:
            vocabulary = _vocabulary_problems(path.name, entry)
            if vocabulary:
                problems.extend(vocabulary)
                continue
            parsed.append((path.name, rule_from_pack(entry, pack)))
    problems.extend(cross_check(parsed, reference))
    if problems:
        raise PackErrors(problems)
    return [rule for _, rule in parsed], packs, packs_digest(files)
