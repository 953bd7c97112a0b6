"""The sample channel catalogue as a reference dataset: data/logistics/channels.yaml and rates.csv.

Loading replaces the channel definitions. The sample rates become version 1 of the sheet of every channel
that has no sheet yet; a channel that has sheets keeps them, because later versions come through
ImportRateSheet and a re-import of the sample file must not undo them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.adapters.catalogue_repository import ChannelRepository, RateSheetRepository, channel_from_row
from services.logistics.adapters.tables import countries
from services.logistics.domain.channels import DefinitionProblem
from services.logistics.domain.rate_sheets import SheetRejected, parse_sheet
from services.shared.clock import utcnow
from services.shared.errors import ValidationError
from services.shared.refdata import DatasetSpec, Progress

CHANNELS_DATASET = "logistics_sample_channels"
RATES_FILE = "rates.csv"
SAMPLE_VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)


def read_definitions(path: Path, known_countries: frozenset[str]) -> list[dict[str, Any]]:
    """The definitions, each checked: its countries known, each carrier id it names one with a code table."""
    carriers = frozenset(load_tables())
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    definitions = document.get("channels") if isinstance(document, dict) else None
    if not isinstance(definitions, list) or not definitions:
        raise ValueError(f"{path.name}: a top-level 'channels' list is required")
    seen: set[str] = set()
    for definition in definitions:
        try:
            channel = channel_from_row(definition, known_countries, carriers)
        except (DefinitionProblem, ValidationError) as problem:
            raise ValueError(f"{path.name}: {problem}") from None
        if channel.code in seen:
            raise ValueError(f"{path.name}: channel {channel.code} is defined twice")
        seen.add(channel.code)
    return definitions


def load_sample_channels(connection: Connection, path: Path, progress: Progress) -> int:
    known = frozenset(connection.execute(sa.select(countries.c.alpha2)).scalars())
    definitions = read_definitions(path, known)
    channel_repository = ChannelRepository(connection)
    count = channel_repository.replace_all(definitions)
    progress(count)
    by_code = channel_repository.all()
    rates_path = path.with_name(RATES_FILE)
    try:
        sheets = parse_sheet(rates_path.read_text(encoding="utf-8"), by_code)
    except SheetRejected as rejected:
        raise ValueError(f"{rates_path.name}: {rejected}") from None
    sheet_repository = RateSheetRepository(connection)
    priced = sheet_repository.channels_with_sheets()
    source = f"data/logistics/{RATES_FILE} (SAMPLE DATA)"
    for code, zones in sorted(sheets.items()):
        if code not in priced:
            sheet_repository.add(code, 1, SAMPLE_VALID_FROM, utcnow(), source, zones)
    return count


DATASETS = (
    DatasetSpec(
        CHANNELS_DATASET,
        "logistics/channels.yaml",
        "SAMPLE DATA: invented channel catalogue and rates (not any carrier's tariff), data/logistics",
        load_sample_channels,
        20,
        companions=(RATES_FILE,),
    ),
)
