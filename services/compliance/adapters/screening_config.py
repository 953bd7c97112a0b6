"""The screening configuration as versioned reference datasets: decision thresholds and the variant table.

`screening_thresholds` (data/screening/thresholds.yaml) and `name_variants` (data/screening/name_variants.yaml)
are datasets of services/shared/refdata.py like the sanctions lists: the version is the file's SHA-256, an
unchanged file changes nothing, a file that fails its checks changes nothing either, and a start never
reverts a version ops imported. A new version stores the parsed document in `screening_config` and emits
`list_updated` (list name = the dataset, no entry ids) in the import's transaction: the same consumer that
re-screens parties after a list change re-screens every stored party after a configuration change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection
from xborder.compliance.v1 import events_pb2

from services.compliance.adapters.name_variants_file import load_variant_document, parse_name_variants
from services.compliance.adapters.screening_tables import screening_config
from services.compliance.adapters.tables import DATASET_VERSIONS, OUTBOX
from services.compliance.domain.name_variants import NameVariants
from services.compliance.domain.screening import ThresholdProblem, Thresholds
from services.shared.outbox import write_event
from services.shared.refdata import DatasetSpec, DatasetVersions, Progress, file_version

THRESHOLDS = "screening_thresholds"
NAME_VARIANTS = "name_variants"
CONFIG_NAMES = (NAME_VARIANTS, THRESHOLDS)


class ThresholdsFileError(ValueError):
    """The thresholds file is malformed; the message names the file and the field."""


def parse_thresholds(data: object, path: str) -> Thresholds:
    if not isinstance(data, dict) or not str(data.get("version") or "").strip():
        raise ThresholdsFileError(f"{path}: needs a non-empty `version`")
    values: dict[str, float] = {}
    for key in ("block", "review"):
        raw = data.get(key)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or not 0 < raw <= 1:
            raise ThresholdsFileError(f"{path}: `{key}` must be a number in (0, 1], got {raw!r}")
        values[key] = float(raw)
    try:
        return Thresholds(values["block"], values["review"])
    except ThresholdProblem as error:
        raise ThresholdsFileError(f"{path}: {error}") from None


def read_thresholds(path: Path) -> tuple[Thresholds, dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ThresholdsFileError(f"{path}: cannot be read ({error})") from None
    thresholds = parse_thresholds(data, str(path))
    return thresholds, data


@dataclass(frozen=True)
class ScreeningConfig:
    """The configuration in force, each part with the dataset version it came from."""

    thresholds: Thresholds
    variants: NameVariants
    versions: dict[str, str]


class ScreeningConfigRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def current_versions(self) -> dict[str, str]:
        t = DATASET_VERSIONS
        rows = self.connection.execute(
            sa.select(t.c.dataset, t.c.version).where(t.c.dataset.in_(CONFIG_NAMES), t.c.is_current.is_(True))
        ).all()
        return {row.dataset: row.version for row in rows}

    def documents(self) -> dict[str, tuple[str, Any]]:
        t = screening_config
        rows = self.connection.execute(sa.select(t.c.dataset, t.c.version, t.c.document)).all()
        return {row.dataset: (row.version, row.document) for row in rows}

    def current(self) -> ScreeningConfig:
        """The stored configuration; LookupError when a part is missing or does not match its recorded version."""
        versions = self.current_versions()
        documents = self.documents()
        for name in CONFIG_NAMES:
            if name not in versions:
                raise LookupError(f"{name} not loaded")
            if documents.get(name, ("", None))[0] != versions[name]:
                raise LookupError(f"{name} rows do not match their recorded version")
        where = "screening_config"
        thresholds = parse_thresholds(documents[THRESHOLDS][1], f"{where}[{THRESHOLDS}]")
        variants = parse_name_variants(documents[NAME_VARIANTS][1], f"{where}[{NAME_VARIANTS}]")
        return ScreeningConfig(
            Thresholds(thresholds.block, thresholds.review, versions[THRESHOLDS]), variants, dict(versions)
        )


def _store(connection: Connection, dataset: str, path: Path, document: Any) -> None:
    """Replace the dataset's stored document and emit `list_updated` for it (the caller's transaction)."""
    version = file_version(path)
    current = DatasetVersions(connection, DATASET_VERSIONS).current(dataset)
    connection.execute(screening_config.delete().where(screening_config.c.dataset == dataset))
    connection.execute(screening_config.insert().values(dataset=dataset, version=version, document=document))
    write_event(
        connection,
        OUTBOX,
        "compliance",
        events_pb2.ListUpdated(
            list_name=dataset, old_version=current.version if current else "", new_version=version, entry_count=1
        ),
    )


def load_thresholds(connection: Connection, path: Path, progress: Progress) -> int:
    _, document = read_thresholds(path)
    _store(connection, THRESHOLDS, path, document)
    progress(1)
    return 1


def load_name_variants(connection: Connection, path: Path, progress: Progress) -> int:
    document = load_variant_document(path)
    variants = parse_name_variants(document, str(path))  # a broken table is refused here, not at screening
    _store(connection, NAME_VARIANTS, path, document)
    progress(len(variants.groups))
    return len(variants.groups)


CONFIG_DATASETS = (
    DatasetSpec(
        NAME_VARIANTS,
        "screening/name_variants.yaml",
        "Name-part transliteration variants, curated (data/screening/name_variants.yaml)",
        load_name_variants,
        95,
    ),
    DatasetSpec(
        THRESHOLDS,
        "screening/thresholds.yaml",
        "Screening decision thresholds (data/screening/thresholds.yaml)",
        load_thresholds,
        1,
    ),
)
