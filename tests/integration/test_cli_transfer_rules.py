"""`xborder transfer-rules`: show, export, edit and publish a new version, kill switches, legal bases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner
from xborder.compliance.v1 import screening_service_pb2_grpc

from cli.main import app
from services.shared.settings import Settings
from tests.integration.test_cli_merchants import onboard
from tests.servers import running_service

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    with running_service(settings, "compliance", screening_service_pb2_grpc.ScreeningServiceStub) as compliance:
        values = {
            "XB_VAR_DIR": str(tmp_path / "var"),
            "XB_COMPLIANCE_PORT": str(compliance.port),
            "XB_LOG_JSON": "false",
            # The first screening builds the sanctions index, slowly on a loaded machine: the CLI is under
            # test here, not the deadline.
            "XB_DEFAULT_DEADLINE_S": "60",
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("XB_DATABASE_URL", raising=False)
        monkeypatch.delenv("XB_BROKER_URL", raising=False)
        yield values


def run(*args: str) -> str:
    result = runner.invoke(app, ["transfer-rules", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_export_edit_publish_makes_a_new_version_and_keeps_the_old(env: dict[str, str], tmp_path: Path) -> None:
    assert "version 1, published by seed" in run("show")
    assert "CN-PI-100K-PERSONS" in {r["ruleId"] for r in json.loads(run("show", "--json"))["rules"]}
    document = yaml.safe_load(run("export"))
    assert document["version"] == 1
    for rule in document["rules"]:
        if rule["rule_id"] == "EU-PD-THIRD-COUNTRY":
            rule["otherwise"] = "BLOCK"
    edited = tmp_path / "rules.yaml"
    edited.write_text(yaml.safe_dump(document))
    published = json.loads(run("publish", str(edited), "--by", "Li Wei", "--reason", "stricter EU default", "--json"))
    assert published["version"] == 2
    now = json.loads(run("show", "--json"))
    rule = next(r for r in now["rules"] if r["ruleId"] == "EU-PD-THIRD-COUNTRY")
    assert rule["otherwise"] == "TRANSFER_ACTION_BLOCK" and now["publishedBy"] == "Li Wei"
    old = json.loads(run("show", "--version", "1", "--json"))
    assert next(r for r in old["rules"] if r["ruleId"] == "EU-PD-THIRD-COUNTRY")["otherwise"] == "TRANSFER_ACTION_MASK"


def test_a_rule_without_a_source_is_refused_naming_it(env: dict[str, str], tmp_path: Path) -> None:
    document = yaml.safe_load(run("export"))
    document["rules"][0]["source"] = ""
    edited = tmp_path / "rules.yaml"
    edited.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["transfer-rules", "publish", str(edited), "--by", "x", "--reason", "y"])
    assert result.exit_code == 2 and "rules[0].source" in result.output


def test_kill_switch_and_legal_bases(env: dict[str, str]) -> None:
    assert "destination US" in run("kill-switch", "destination", "US", "--by", "ops", "--reason", "incident")
    assert "none" in run("kill-switch", "destination", "US", "--release", "--by", "ops", "--reason", "over")
    merchant = onboard("--name", "Alpha Export GmbH", "--country", "DE")["merchantCode"]
    filed = json.loads(
        run(
            "bases",
            "add",
            merchant,
            "--kind",
            "standard_contract",
            "--reference",
            "SCC-01",
            "--destination",
            "CN",
            "--by",
            "officer",
            "--json",
        )
    )
    assert filed["basisId"].startswith("LB") and filed["kind"] == "LEGAL_BASIS_KIND_STANDARD_CONTRACT"
    listed = json.loads(run("bases", "list", merchant, "--json"))
    assert [b["reference"] for b in listed] == ["SCC-01"]
    bad = runner.invoke(
        app, ["transfer-rules", "bases", "add", merchant, "--kind", "x", "--reference", "r", "--by", "o"]
    )
    assert bad.exit_code == 2 and "--kind" in bad.output
