"""Structural rules of docs/architecture.md, checked on the source tree.

- No module imports a private name from another module (the public seam is the only way in).
- No module under batchramp_theory/ grows past about 450 lines (one concept per module).
- Library code reads no environment variables (knobs are arguments, never the environment).
"""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "batchramp_theory"
MAX_LINES = 460  # "about 450": the limit of issue 12, with a few lines of slack for a docstring edit


def _modules():
    return sorted(PKG.rglob("*.py"))


def test_no_cross_module_private_imports():
    bad = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                for alias in node.names:
                    if alias.name.startswith("_"):
                        bad.append(f"{path.relative_to(PKG.parent)}:{node.lineno}: from {node.module} import {alias.name}")
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


def test_modules_hold_one_concept_by_size():
    long = [f"{p.relative_to(PKG.parent)}: {n} lines" for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, "modules over the size limit (split them by concept):\n" + "\n".join(long)


def test_library_reads_no_environment():
    bad = []
    for path in _modules():
        text = path.read_text()
        for needle in ("os.environ", "getenv(", '__import__("os")'):
            if needle in text:
                bad.append(f"{path.relative_to(PKG.parent)}: {needle}")
    assert not bad, "library code reading the environment:\n" + "\n".join(bad)
