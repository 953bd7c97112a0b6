"""The documented examples run as written, in order, on a freshly started embedded platform.

A fenced `sh` block right after a line `<!-- run -->` in README.md or docs/tour.md is runnable
(docs/tour.md, "Runnable examples"). The platform is `xborder up` (what `make run` runs) on free ports with
a fresh XB_VAR_DIR; the blocks run in one bash process from the repository root, so shell variables carry
over, with the gateway's real address put in place of 127.0.0.1:8080. A block passes when none of its
commands fails and the lines after `# => ` appear, in that order, among the lines it printed.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REQUIRE
from tests.e2e.stack import unused_port

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/tour.md", "docs/customer-service.md")
"""The pages whose runnable blocks run, in this order."""

MARKER = "<!-- run -->"
EXPECT = "# => "
BLOCK_TIMEOUT_S = 120
DONE = "__xb_block_done__"


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    script: str

    @property
    def expected(self) -> list[str]:
        return [
            line.strip()[len(EXPECT) :].rstrip()
            for line in self.script.splitlines()
            if line.strip().startswith(EXPECT.rstrip())
        ]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def runnable_blocks(page: str) -> list[Block]:
    """Each ```sh block that directly follows the marker line."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        fence = index + 1
        if fence >= len(lines) or lines[fence].strip() != "```sh":
            raise ValueError(f"{page}:{index + 1}: {MARKER} must be followed by a ```sh block")
        end = next(i for i in range(fence + 1, len(lines)) if lines[i].strip() == "```")
        blocks.append(Block(page, fence + 1, "\n".join(lines[fence + 1 : end]) + "\n"))
    return blocks


BLOCKS = [block for page in DOCS for block in runnable_blocks(page)]


def printed_in_order(expected: list[str], printed: list[str]) -> list[str]:
    """The expected lines not found, in order, among the printed ones (empty when all were)."""
    remaining = iter(line.rstrip() for line in printed)
    return [line for line in expected if not any(line == candidate for candidate in remaining)]


class Shell:
    """One bash process that sources each block in turn and reports how many of its commands failed."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.work = work
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, block: Block, script: str, index: int) -> tuple[int, str, str]:
        path, out, err = (self.work / f"block{index}.{suffix}" for suffix in ("sh", "out", "err"))
        path.write_text(script, encoding="utf-8")
        assert self.process.stdin is not None and self.process.stdout is not None
        # errtrace so functions count too; the trap counts every failing command without ending the shell.
        self.process.stdin.write(
            f"__xb_failed=0\n"
            f"set -E -o pipefail\n"
            f"trap '__xb_status=$?; __xb_failed=$((__xb_failed + 1)); "
            f'echo "exit $__xb_status at line $LINENO: $BASH_COMMAND" >&2\' ERR\n'
            f"source '{path}' > '{out}' 2> '{err}' < /dev/null\n"
            f"trap - ERR\n"
            f"echo {DONE} $__xb_failed\n"
        )
        self.process.stdin.flush()
        deadline = time.monotonic() + BLOCK_TIMEOUT_S
        while True:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"{block} did not finish within {BLOCK_TIMEOUT_S} s")
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"{block} ended the shell:\n{err.read_text(errors='replace')}")
            if line.startswith(DONE):
                failed = int(line.split()[1])
                return failed, out.read_text(errors="replace"), err.read_text(errors="replace")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Platform:
    http_port: int
    shell: Shell


def tools_present() -> None:
    missing = [tool for tool in ("bash", "curl", "jq", "base64") if shutil.which(tool) is None]
    if missing:
        message = f"the documented examples need {', '.join(missing)}"
        if REQUIRE:
            pytest.fail(f"{message} and XB_REQUIRE_SERVICES=1")
        pytest.skip(message)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tools_present()
    work = tmp_path_factory.mktemp("doc-examples")
    ports = {
        "XB_GATEWAY_HTTP_PORT": unused_port(),
        "XB_GATEWAY_GRPC_PORT": unused_port(),
        "XB_COMPLIANCE_PORT": unused_port(),
        "XB_PAYMENTS_PORT": unused_port(),
        "XB_LOGISTICS_PORT": unused_port(),
        "XB_IDENTITY_PORT": unused_port(),
        "XB_CUSTOMER_SERVICE_PORT": unused_port(),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("XB_")}
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        XB_VAR_DIR=str(work / "var"),
        XB_LOG_JSON="false",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    log = (work / "platform.log").open("w")
    up = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import app; app()", "up"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    http_port = ports["XB_GATEWAY_HTTP_PORT"]
    shell = Shell(env, work)
    try:
        wait_until_serving(up, http_port, work / "platform.log")
        yield Platform(http_port, shell)
    finally:
        shell.close()
        up.terminate()
        try:
            up.wait(30)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
        log.close()


def wait_until_serving(up: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """The first start imports the reference data before it serves; give it up to two minutes."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if up.poll() is not None:
            raise AssertionError(f"xborder up exited with {up.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"xborder up did not serve within 120 s:\n{log.read_text(errors='replace')[-3000:]}")


def test_the_tour_has_runnable_examples_for_every_part() -> None:
    tour = "".join(block.script for block in BLOCKS if block.page == "docs/tour.md")
    for route in ("/v1/compliance/checks", "/v1/compliance/screenings", "/v1/collections", "/v1/fx/quotes"):
        assert route in tour
    for route in ("/v1/payouts", "/settlement-statements", "/bank-accounts", "/risk-alerts"):
        assert route in tour


@pytest.mark.timeout(BLOCK_TIMEOUT_S + 150)
@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_documented_example_runs_as_written(block: Block, platform: Platform) -> None:
    address = f"127.0.0.1:{platform.http_port}"
    script = re.sub(r"\b(?:127\.0\.0\.1|localhost):8080\b", address, block.script)
    failed, out, err = platform.shell.run(block, script, BLOCKS.index(block))
    assert failed == 0, f"{block}: {failed} command(s) failed\n--- stderr\n{err}\n--- stdout\n{out}"
    missing = printed_in_order(block.expected, out.splitlines())
    assert not missing, f"{block}: expected output not printed: {missing}\n--- stdout\n{out}\n--- stderr\n{err}"
