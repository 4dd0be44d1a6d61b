"""The linter: ``ruff check`` (configured in pyproject.toml, ``[tool.ruff]``) passes on the package, the
tests, the benchmarks and the examples. Fix with ``ruff check --fix`` (imports, syntax upgrades) and by hand."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PATHS = ["batchramp_theory", "tests", "benchmarks", "examples"]


def _ruff() -> list[str] | None:
    """The ruff of this interpreter's environment (the ``test`` extra installs it), else one on PATH."""
    local = Path(sys.executable).with_name("ruff")
    if local.exists():
        return [str(local)]
    found = shutil.which("ruff")
    return [found] if found else None


def test_ruff_check():
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    out = subprocess.run([*ruff, "check", "--no-cache", *PATHS], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, f"ruff check failed:\n{out.stdout}{out.stderr}"
