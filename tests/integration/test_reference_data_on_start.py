"""A start seeds the shipped reference data but never reverts a version ops imported with `xborder import`."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from services.embedded import Platform
from services.registry import SERVICES
from services.shared.refdata import OPS, STARTED, ImportResult
from services.shared.settings import Settings
from tests.cli_env import offline_cli_env

SHIPPED = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    offline_cli_env(tmp_path, monkeypatch, extra={"COLUMNS": "250"}, unset=("XB_DATA_DIR",))
    return Settings.from_env()


@pytest.fixture
def ops_data(tmp_path: Path) -> Path:
    """A copy of the shipped files whose BIS Denied Persons List has one entry fewer (a newer publication)."""
    target = tmp_path / "ops-data"
    shutil.copytree(SHIPPED, target)
    bis = target / "sanctions" / "bis_dpl.txt"
    lines = bis.read_text().splitlines(keepends=True)
    bis.write_text("".join(lines[:-1]))
    return target


def start(settings: Settings) -> list[ImportResult]:
    """What `xborder up` does with the data before serving: boot every service and seed."""
    platform = Platform(replace(settings, service_ports=dict.fromkeys(SERVICES, 0)))
    platform.boot()
    try:
        return platform.seed()
    finally:
        platform.stop()


def current_bis(settings: Settings) -> tuple[str, int, str | None, str | None]:
    platform = Platform(settings)
    platform.boot()
    try:
        found = next(v for v in platform.contexts["compliance"].dataset_versions() if v.dataset == "bis_dpl")
        return found.version, found.record_count, found.imported_by, found.imported_from
    finally:
        platform.stop()


def flat(output: str) -> str:
    return " ".join(output.split())


def test_a_restart_keeps_the_list_ops_imported_and_status_says_so(env: Settings, ops_data: Path) -> None:
    first = {r.dataset: r for r in start(env)}
    shipped_version = first["bis_dpl"].version
    assert current_bis(env)[2] == STARTED

    imported = CliRunner().invoke(
        app, ["import", "--service", "compliance", "--dataset", "bis_dpl", "--data-dir", str(ops_data)]
    )
    assert imported.exit_code == 0, imported.output
    ops_version, ops_count, by, source = current_bis(env)
    assert ops_version != shipped_version and by == OPS and source == str(ops_data.resolve())

    restarted = {r.dataset: r for r in start(env)}
    assert current_bis(env)[:2] == (ops_version, ops_count)  # the start did not revert it
    kept = restarted["bis_dpl"]
    assert not kept.changed and kept.version == ops_version and kept.offered_version == shipped_version
    assert "not applied" in kept.describe() and "xborder import" in kept.describe()
    assert not any(r.changed for r in restarted.values())

    status = flat(CliRunner().invoke(app, ["status"]).output)
    assert f"compliance: bis_dpl: version {ops_version[:12]} imported by ops from {ops_data.resolve()} on " in status
    assert "shipped file differs, not applied — run `xborder import` to apply it" in status

    # Asked for explicitly, the shipped file is applied and the note goes away.
    applied = CliRunner().invoke(app, ["import", "--service", "compliance", "--dataset", "bis_dpl"])
    assert applied.exit_code == 0, applied.output
    assert current_bis(env)[0] == shipped_version
    status = flat(CliRunner().invoke(app, ["status"]).output)
    assert f"compliance: bis_dpl@{shipped_version[:8]}" in status and "not applied" not in status


def test_a_start_updates_what_an_earlier_start_imported(env: Settings, ops_data: Path) -> None:
    start(replace(env, data_dir=ops_data))
    before = current_bis(env)
    results = {r.dataset: r for r in start(env)}
    assert results["bis_dpl"].changed and results["bis_dpl"].previous_version == before[0]
    assert current_bis(env)[2] == STARTED
