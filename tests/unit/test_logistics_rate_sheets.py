"""Rate-sheet CSV imports and channel definitions: refused whole, naming the row and column of each problem."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.logistics.domain.channels import Channel, DefinitionProblem, PostalRange, channel_from_mapping
from services.logistics.domain.rate_sheets import SheetRejected, parse_sheet
from tests.logistics_support import DATA, channel, sample_channels, sample_definitions

CHANNELS = sample_channels()
HEADER = "channel,zone,weight_from_kg,weight_to_kg,per_parcel,per_kg"


def jp_sheet(*rows: str) -> str:
    """A sheet for SAMPLE-LINE-JP: rows for JP-MAIN as given, JP-OKINAWA complete."""
    okinawa = ["SAMPLE-LINE-JP,JP-OKINAWA,0,25,20.00,55.00"]
    return "\n".join([HEADER, *rows, *okinawa]) + "\n"


def problems(text: str) -> list[str]:
    with pytest.raises(SheetRejected) as rejected:
        parse_sheet(text, CHANNELS)
    return [str(p) for p in rejected.value.problems]


def test_the_sample_sheet_prices_every_zone_of_every_channel() -> None:
    sheets = parse_sheet((DATA / "rates.csv").read_text(encoding="utf-8"), CHANNELS)
    assert sheets.keys() == CHANNELS.keys()
    for code, zones in sheets.items():
        assert zones.keys() == CHANNELS[code].zone_names()


def test_a_complete_sheet_for_one_channel_parses() -> None:
    sheet = parse_sheet(
        jp_sheet("SAMPLE-LINE-JP,JP-MAIN,0,2,15.00,50.00", "SAMPLE-LINE-JP,JP-MAIN,2,25,15.00,45.5"), CHANNELS
    )
    main = sorted(sheet["SAMPLE-LINE-JP"]["JP-MAIN"], key=lambda b: b.weight_from_kg)
    assert [(b.weight_from_kg, b.weight_to_kg, b.per_kg) for b in main] == [
        (Decimal(0), Decimal(2), Decimal("50.00")),
        (Decimal(2), Decimal(25), Decimal("45.5")),
    ]


def test_a_gap_between_brackets_names_the_row() -> None:
    found = problems(jp_sheet("SAMPLE-LINE-JP,JP-MAIN,0,2,15.00,50.00", "SAMPLE-LINE-JP,JP-MAIN,3,25,15.00,45.00"))
    assert found == ["row 3, column weight_from_kg: gap in zone JP-MAIN: nothing prices 2-3 kg"]


def test_overlapping_brackets_name_the_row() -> None:
    found = problems(jp_sheet("SAMPLE-LINE-JP,JP-MAIN,0,2,15.00,50.00", "SAMPLE-LINE-JP,JP-MAIN,1.5,25,15.00,45.00"))
    assert found == ["row 3, column weight_from_kg: overlap in zone JP-MAIN: 1.5 kg is below 2 kg"]


def test_brackets_must_reach_the_channel_weight_limit() -> None:
    found = problems(jp_sheet("SAMPLE-LINE-JP,JP-MAIN,0,20,15.00,50.00"))
    assert found == [
        "row 2, column weight_to_kg: zone JP-MAIN brackets end at 20 kg but SAMPLE-LINE-JP accepts up to 25 kg"
    ]


def test_unknown_channels_zones_and_unpriced_zones_are_named() -> None:
    found = problems(
        "\n".join(
            [
                HEADER,
                "NO-SUCH-CHANNEL,US,0,2,1.00,1.00",
                "SAMPLE-LINE-JP,JP-HOKKAIDO,0,25,15.00,50.00",
                "SAMPLE-LINE-JP,JP-MAIN,0,25,15.00,50.00",
            ]
        )
    )
    assert found == [
        "row 2, column channel: unknown channel 'NO-SUCH-CHANNEL'",
        "row 3, column zone: channel SAMPLE-LINE-JP has no zone 'JP-HOKKAIDO' (JP-MAIN, JP-OKINAWA)",
        "row 4, column zone: channel SAMPLE-LINE-JP zone JP-OKINAWA has no rate rows",
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("SAMPLE-LINE-JP,JP-MAIN,0,25,15.001,50", "row 2, column per_parcel: at most 2 decimal places, got 15.001"),
        ("SAMPLE-LINE-JP,JP-MAIN,0,25,-1,50", "row 2, column per_parcel: must be zero or more"),
        ("SAMPLE-LINE-JP,JP-MAIN,0,25,15,abc", "row 2, column per_kg: 'abc' is not a decimal number"),
        ("SAMPLE-LINE-JP,JP-MAIN,0,0,15,50", "row 2, column weight_to_kg: must be positive"),
        ("SAMPLE-LINE-JP,JP-MAIN,5,2,15,50", "row 2, column weight_to_kg: 2 is not above weight_from_kg 5"),
        ("SAMPLE-LINE-JP,JP-MAIN,0,25,15", "row 2, column *: 5 cells where the header has 6"),
    ],
)
def test_bad_cells_name_their_row_and_column(row: str, expected: str) -> None:
    assert expected in problems(jp_sheet(row))


def test_missing_header_columns_and_empty_sheets_are_refused() -> None:
    assert problems("channel,zone,weight_from_kg\n") == [
        "row 1, column weight_to_kg: missing from the header row",
        "row 1, column per_parcel: missing from the header row",
        "row 1, column per_kg: missing from the header row",
    ]
    assert problems(HEADER + "\n") == ["column channel: the sheet has no rate rows"]


def test_comment_lines_are_skipped_and_rows_keep_their_file_line_numbers() -> None:
    text = "# SAMPLE DATA\n" + jp_sheet("SAMPLE-LINE-JP,JP-MAIN,0,2,15.00,50.00", "SAMPLE-LINE-JP,JP-MAIN,3,25,1,1")
    assert problems(text) == ["row 4, column weight_from_kg: gap in zone JP-MAIN: nothing prices 2-3 kg"]


def test_a_sheet_for_one_carrier_prices_only_that_carriers_channels() -> None:
    assert CHANNELS["SAMPLE-LINE-JP"].carrier_id == "dhl_express"
    own = jp_sheet("SAMPLE-LINE-JP,JP-MAIN,0,25,15.00,50.00")
    assert parse_sheet(own, CHANNELS, "dhl_express").keys() == {"SAMPLE-LINE-JP"}
    with pytest.raises(SheetRejected) as rejected:
        parse_sheet(own, CHANNELS, "hermes")
    assert [str(p) for p in rejected.value.problems] == [
        "row 2, column channel: carrier hermes has no channel 'SAMPLE-LINE-JP'",
        "row 3, column channel: carrier hermes has no channel 'SAMPLE-LINE-JP'",
    ]


def test_another_carriers_channel_reads_like_a_channel_that_does_not_exist() -> None:
    mixed = jp_sheet("SAMPLE-LINE-JP,JP-MAIN,0,25,15.00,50.00") + "SAMPLE-NOPE,JP-MAIN,0,25,1,1\n"
    with pytest.raises(SheetRejected) as rejected:
        parse_sheet(mixed, CHANNELS, "hermes")
    said = [str(p).split(": ", 1)[1] for p in rejected.value.problems]
    assert said == [f"carrier hermes has no channel {code!r}" for code in ("SAMPLE-LINE-JP",) * 2 + ("SAMPLE-NOPE",)]


def test_every_sample_channel_names_a_carrier_with_a_code_table() -> None:
    tables = {path.stem for path in (DATA / "carrier_codes").glob("*.yaml")}
    assert {c.carrier_id for c in CHANNELS.values()} | {
        t for c in CHANNELS.values() for t in c.tracking_carriers
    } <= tables
    # One carrier id per carrier: a partner owning it owns every channel the carrier operates.
    by_carrier = {c.carrier: c.carrier_id for c in CHANNELS.values()}
    assert all(by_carrier[c.carrier] == c.carrier_id for c in CHANNELS.values())


# ---- channel definitions ----


def definition(**changes: object) -> dict:
    base = next(d for d in sample_definitions() if d["code"] == "SAMPLE-LINE-GB")
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"kind": "teleport"}, "channel SAMPLE-LINE-GB.kind: 'teleport' is not one of postal"),
        ({"origin_countries": ["XX"]}, "origin_countries: 'XX' is not an ISO 3166-1 alpha-2 country code"),
        ({"zones": [{"name": "Z", "countries": ["GB"], "transit_days": [9, 3]}]}, "need 0 < min <= max"),
        ({"zones": [{"name": "Z", "countries": ["GB"], "postal_ranges": ["ZZ9-A"], "transit_days": [1, 3]}]}, "bounds"),
        ({"dim_divisor": 12}, "dim_divisor"),
        ({"default_quality": 101}, "default_quality"),
        ({"carrier_id": None}, "channel SAMPLE-LINE-GB.carrier_id: None is not a carrier id"),
        ({"carrier_id": "DHL Express"}, "carrier_id: 'DHL Express' is not a carrier id"),
        ({"carrier_id": "ups"}, "channel SAMPLE-LINE-GB.carrier_id: 'ups' has no carrier code table"),
        ({"tracking_carriers": ["ups"]}, "channel SAMPLE-LINE-GB.tracking_carriers: 'ups' has no carrier code table"),
        ({"tracking_carriers": ["Royal Mail"]}, "tracking_carriers: 'Royal Mail' is not a carrier id"),
        ({"tracking_carriers": "hermes"}, "tracking_carriers: a list of carrier ids is required"),
        ({"tracking_carriers": ["dhl_express"]}, "tracking_carriers: 'dhl_express' is the channel's carrier_id"),
        ({"tracking_carriers": ["hermes", "Hermes"]}, "tracking_carriers: 'Hermes' is named twice"),
        ({"cutoff": {"time": "25:00", "timezone": "Asia/Shanghai"}}, "cutoff.time"),
        ({"cutoff": {"time": "12:00", "timezone": "Mars/Olympus"}}, "cutoff.timezone"),
        (
            {
                "restrictions": {
                    "batteries": ["UN3480:contained_in_equipment"],
                    "max_weight_kg": "1",
                    "max_side_cm": "1",
                }
            },
            "batteries",
        ),
    ],
)
def test_a_bad_channel_definition_names_the_channel_and_key(changes: dict, says: str) -> None:
    with pytest.raises(DefinitionProblem) as problem:
        channel_from_known_countries(definition(**changes))
    assert says in str(problem.value)


def channel_from_known_countries(raw: dict) -> Channel:
    return channel_from_mapping(raw, 2, frozenset({"CN", "GB"}), frozenset({"dhl_express", "fedex", "hermes"}))


def test_a_channels_tracking_carriers_are_read_as_carrier_ids_besides_its_own() -> None:
    handed_on = channel_from_known_countries(definition(tracking_carriers=[" Hermes ", "fedex"]))
    assert (handed_on.carrier_id, handed_on.tracking_carriers) == ("dhl_express", frozenset({"hermes", "fedex"}))
    assert channel_from_known_countries(definition()).tracking_carriers == frozenset()


def test_postal_ranges_compare_prefixes_of_the_normalised_code() -> None:
    alaska = PostalRange.parse("995-999")
    assert alaska.contains("99501") and not alaska.contains("99401") and not alaska.contains("99")
    hebrides = PostalRange.parse("hs")
    assert hebrides.contains("HS12AB") and not hebrides.contains("H12AB")
    assert channel(definition()).zone_for("GB", "BT11AA").name == "GB-HIGHLANDS-ISLANDS"  # type: ignore[union-attr]
