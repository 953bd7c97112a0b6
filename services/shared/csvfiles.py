"""Reading the reference CSV files strictly: a row whose cell count differs from the header is refused.

csv.DictReader silently files extra cells under a None key and leaves missing ones None, so an unquoted
comma or a lost cell would shift values into the wrong columns (a rate onto another currency). The
importers read through here; a malformed file then fails its import, which changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path


def read_records(
    path: Path, required: Iterable[str] = (), *, text: str | None = None
) -> list[tuple[int, dict[str, str]]]:
    """(line number, row by column name) for every non-empty row; ValueError naming the file and line.

    `text`: the file's content when it does not sit at `path` as is (a CSV inside a zip archive).
    """
    with io.StringIO(text) if text is not None else path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [cell.strip() for cell in next(reader, [])]
        missing = [column for column in required if column not in header]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        records: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(header):
                raise ValueError(
                    f"{path.name}: line {reader.line_num} has {len(cells)} cells where the header has {len(header)}"
                )
            records.append((reader.line_num, dict(zip(header, cells, strict=True))))
    return records
