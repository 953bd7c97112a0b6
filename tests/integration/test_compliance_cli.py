"""`xborder rules ...` and `xborder compliance check-catalog`, run as an operator would (real SQLite files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from tests.compliance_rules import FIXTURE_PACKS

WIDE = {"COLUMNS": "200"}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    monkeypatch.delenv("XB_BROKER_URL", raising=False)
    monkeypatch.delenv("XB_DATABASE_URL", raising=False)
    imported = CliRunner().invoke(app, ["import", "--service", "compliance"])
    assert imported.exit_code == 0, imported.output
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    return result.exit_code, result.output


def test_import_diff_publish_list_show(env: Path) -> None:
    code, out = run("rules", "diff")
    assert code == 1 and "no draft is staged" in out
    code, out = run("rules", "import", str(FIXTURE_PACKS))
    assert code == 0, out
    assert "staged 9 rules from 3 packs" in out and "US-TEST-FCC" in out
    code, out = run("rules", "publish")
    assert code == 0 and "published library version 1" in out, out
    code, out = run("rules", "publish")
    assert code == 1 and "no draft is staged" in out

    packs = env / "packs"
    shutil.copytree(FIXTURE_PACKS, packs)
    path = packs / "us-test-customs.yaml"
    document = yaml.safe_load(path.read_text("utf-8"))
    document["rules"] = [r for r in document["rules"] if r["code"] != "US-TEST-FCC"]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    code, out = run("rules", "import", str(packs))
    assert code == 0, out
    code, out = run("rules", "diff")
    assert code == 0 and "removed" in out and "US-TEST-FCC" in out and "added" not in out
    code, out = run("rules", "publish")
    assert code == 0 and "published library version 2" in out

    code, out = run("rules", "list")
    assert code == 0 and "RK" in out and out.count("eu-test-safety") == 2
    code, out = run("rules", "show", "--version", "1", "--destination", "US")
    assert code == 0 and "US-TEST-FCC" in out and "v1-v2" in out and "EU-TEST-CE-RED" not in out
    code, out = run("rules", "show", "--rule", "EU-TEST-IVORY")
    assert code == 0 and "Council Regulation (EC) No 338/97" in out and "note:" in out


def test_an_invalid_pack_directory_lists_every_problem_and_stages_nothing(env: Path) -> None:
    packs = env / "bad"
    shutil.copytree(FIXTURE_PACKS, packs)
    path = packs / "eu-test-vat.yaml"
    document = yaml.safe_load(path.read_text("utf-8"))
    document["rules"][0]["value_threshold"]["currency"] = "EUQ"
    document["rules"][0]["hs_scope"] = ["9999"]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    code, out = run("rules", "import", str(packs))
    assert code == 1
    assert "2 problem(s), nothing staged or published" in out
    assert "eu-test-vat.yaml: rule EU-TEST-IOSS: value_threshold.currency" in out
    assert "eu-test-vat.yaml: rule EU-TEST-IOSS: hs_scope[0]" in out
    assert run("rules", "diff")[0] == 1


HEADER = "sku,title,hs_code,gtin,origin_country,declared_value,currency,"
CATALOG = (
    HEADER
    + """radio,battery_type,battery_wh,materials,certifications
A1,Speaker,851822,4006381333931,CN,120,EUR,true,lithium_ion,120,plastic,CE
A2,Ivory comb,961511,,CN,20,EUR,,,,ivory;wood,
A3,Short code,8518,,CN,12.345,EUR,,,,,
A4,Bad GTIN,851822,4006381333932,CN,10,EUR,,,,,
A5,T-shirt,610910,,CN,8,EUR,,,,cotton,
"""
)


def test_check_catalog_checks_good_rows_and_reports_bad_ones(env: Path) -> None:
    run("rules", "import", str(FIXTURE_PACKS))
    run("rules", "publish")
    catalog = env / "catalog.csv"
    catalog.write_text(CATALOG, "utf-8")
    out_file = env / "results.jsonl"
    args = ("compliance", "check-catalog", str(catalog), "-m", "DE", "-m", "US", "--as-of", "2026-03-02")
    code, out = run(*args, "--output", str(out_file))
    assert code == 0, out
    assert "5 rows, 2 rejected" in out and "Allowed with conditions" in out
    lines = [json.loads(line) for line in out_file.read_text("utf-8").splitlines()]
    by_row: dict[int, list[dict]] = {}
    for line in lines:
        by_row.setdefault(line["row"], []).append(line)
    assert {(r["market"], r["verdict"]) for r in by_row[2]} == {("DE", "ALLOWED_WITH_CONDITIONS"), ("US", "RESTRICTED")}
    assert {(r["market"], r["verdict"]) for r in by_row[3]} == {("DE", "PROHIBITED"), ("US", "ALLOWED")}
    assert set(by_row[4][0]["errors"]) == {"hs_code", "declared_value"}
    assert set(by_row[5][0]["errors"]) == {"gtin"}
    assert len(by_row[6]) == 2
    # the same file again replays: same report codes, nothing stored twice
    code, _ = run(*args, "--output", str(env / "again.jsonl"))
    again = [json.loads(line) for line in (env / "again.jsonl").read_text("utf-8").splitlines()]
    assert code == 0 and [r.get("report") for r in again] == [r.get("report") for r in lines]
    code, out = run(*args, "--output", str(env / "zh.jsonl"), "--language", "zh-CN")
    assert code == 0 and "有条件允许" in out


USD_CATALOG = (
    HEADER
    + """radio,battery_type,battery_wh,materials,certifications
U1,Speaker,851822,4006381333931,CN,20,USD,true,lithium_ion,120,plastic,
U2,Speaker,851822,4006381333931,CN,172,USD,true,lithium_ion,120,plastic,
"""
)


def test_check_catalog_answers_usd_rows_after_the_rate_history_ends(env: Path) -> None:
    run("rules", "import", str(FIXTURE_PACKS))
    run("rules", "publish")
    catalog = env / "usd.csv"
    catalog.write_text(USD_CATALOG, "utf-8")
    out_file = env / "usd.jsonl"
    code, out = run("compliance", "check-catalog", str(catalog), "-m", "DE", "--output", str(out_file))  # today
    assert code == 0, out
    assert "2 rows, 0 rejected" in out and "1 report(s) incomplete" in out
    far, near = [json.loads(line) for line in out_file.read_text("utf-8").splitlines()]
    assert (far["verdict"], far["unmet"]) == ("ALLOWED_WITH_CONDITIONS", ["EU-TEST-CE-RED", "EU-TEST-GPSR-RP"])
    [ioss] = far["tax_regimes"]
    assert (ioss["code"], ioss["applies"], ioss["uncertain"], far["complete"]) == ("EU-TEST-IOSS", True, False, True)
    assert ioss["rate"]["pair"] == "USD/EUR" and ioss["rate"]["date"] == "2026-04-13" and ioss["rate"]["stale"]
    # USD 172 is about EUR 147 at the April rate: an old rate cannot tell which side of EUR 150 it lies
    assert near["verdict"] == "ALLOWED_WITH_CONDITIONS" and near["unmet"] == far["unmet"]
    assert not near["complete"] and near["tax_regimes"][0]["uncertain"]
    assert "2026-04-13" in near["missing"][0]


def test_check_catalog_without_a_library_stops_with_one_message(env: Path) -> None:
    catalog = env / "catalog.jsonl"
    catalog.write_text(json.dumps({"sku": "A1", "hs_code": "851822"}) + "\n", "utf-8")
    code, out = run("compliance", "check-catalog", str(catalog), "-m", "DE")
    assert code == 1 and "no rule library has been published" in out
