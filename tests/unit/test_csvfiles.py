from pathlib import Path

import pytest

from services.shared.csvfiles import read_records


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_rows_by_column_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, 'Code,Name\n1,"Arrival, completed"\n\n2,Loading\n')
    assert read_records(path, ("Code",)) == [
        (2, {"Code": "1", "Name": "Arrival, completed"}),
        (4, {"Code": "2", "Name": "Loading"}),
    ]


def test_a_row_with_a_stray_comma_is_refused_not_shifted(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,USD,CNY\n2024-03-15,1.0892,7,838\n")
    with pytest.raises(ValueError, match=r"table\.csv: line 2 has 4 cells where the header has 3"):
        read_records(path)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing column\\(s\\) MinorUnit"):
        read_records(write(tmp_path, "AlphabeticCode\nUSD\n"), ("AlphabeticCode", "MinorUnit"))
