"""Every service's Alembic chain is one line from one base to one head, and its files are numbered in that order."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from services.registry import SERVICES

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def _scripts(service: str) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    return ScriptDirectory.from_config(config)


def _chain(scripts: ScriptDirectory) -> list[str]:
    """Revision ids from base to head, following down_revision."""
    return [revision.revision for revision in reversed(list(scripts.walk_revisions("base", "heads")))]


@pytest.mark.parametrize("service", SERVICES)
def test_the_chain_is_linear(service: str) -> None:
    scripts = _scripts(service)
    assert len(scripts.get_heads()) == 1, f"{service}: heads {scripts.get_heads()}"
    assert len(scripts.get_bases()) == 1, f"{service}: bases {scripts.get_bases()}"
    for revision in scripts.walk_revisions():
        assert not revision.is_merge_point, f"{service}: {revision.revision} merges branches"
        assert not revision.is_branch_point, f"{service}: {revision.revision} starts a branch"


@pytest.mark.parametrize("service", SERVICES)
def test_sorted_file_names_follow_the_chain(service: str) -> None:
    scripts = _scripts(service)
    by_file = {Path(r.path).name: r.revision for r in scripts.walk_revisions()}
    in_file_order = [by_file[name] for name in sorted(by_file)]
    assert in_file_order == _chain(scripts), f"{service}: files {sorted(by_file)}"
    numbers = [name.split("_", 1)[0] for name in sorted(by_file)]
    assert numbers == [f"{n:04d}" for n in range(1, len(numbers) + 1)], f"{service}: numbered {numbers}"


def test_a_file_out_of_chain_order_is_caught(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (tmp_path / "script.py.mako").write_text("")
    for file_name, revision, down in (("0001_a.py", "a", None), ("0002_c.py", "c", "b"), ("0003_b.py", "b", "a")):
        (versions / file_name).write_text(f"revision = {revision!r}\ndown_revision = {down!r}\n")
    config = Config()
    config.set_main_option("script_location", str(tmp_path))
    scripts = ScriptDirectory.from_config(config)
    by_file = {Path(r.path).name: r.revision for r in scripts.walk_revisions()}
    assert [by_file[name] for name in sorted(by_file)] != _chain(scripts)
