"""Generate Python code from protos/ into protos/gen/, and build the descriptor image buf lints.

Run with `make protos` (generate) or `make protos-lint` (image + buf lint). Works offline: the google/api
sources come from googleapis-common-protos in site-packages, the well-known types from grpc_tools.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GEN = PROTOS / "gen"
IMAGE = ROOT / "build" / "image.binpb"


def _include_args() -> list[str]:
    site = Path(next(iter(google.api.__path__))).parent.parent  # .../site-packages
    return [f"-I{PROTOS}", f"-I{site}", f"-I{Path(grpc_tools.__file__).parent / '_proto'}"]


def _sources() -> list[str]:
    return sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / "xborder").rglob("*.proto"))


def _run(args: list[str]) -> None:
    if protoc.main(["grpc_tools.protoc", *args]) != 0:
        sys.exit(f"protoc failed: {' '.join(args)}")


def generate() -> None:
    if GEN.exists():
        shutil.rmtree(GEN)
    GEN.mkdir(parents=True)
    _run([*_include_args(), f"--python_out={GEN}", f"--pyi_out={GEN}", f"--grpc_python_out={GEN}", *_sources()])
    # Regular packages (not namespace packages) so `xborder` never merges with another distribution's.
    for folder in [GEN / "xborder", *(p for p in (GEN / "xborder").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    print(f"generated {len(_sources())} protos into {GEN.relative_to(ROOT)}")


def image() -> Path:
    IMAGE.parent.mkdir(parents=True, exist_ok=True)
    _run([*_include_args(), "--include_imports", "--include_source_info", f"--descriptor_set_out={IMAGE}", *_sources()])
    return IMAGE


def lint() -> None:
    buf = shutil.which("buf") or str(Path(sys.executable).parent / "buf")
    result = subprocess.run([buf, "lint", str(image()), "--path", "xborder"], cwd=ROOT, check=False)  # noqa: S603
    if result.returncode:
        sys.exit("buf lint failed")
    print("buf lint: clean")


if __name__ == "__main__":
    {"generate": generate, "lint": lint, "image": image}[sys.argv[1] if len(sys.argv) > 1 else "generate"]()
