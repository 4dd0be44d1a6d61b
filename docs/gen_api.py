"""Regenerate docs/api.md from the docstrings of every public name: python docs/gen_api.py.

Public names are those of ``batchramp_theory`` (``bt.*``), of its ``fsl`` subpackage
(``bt.fsl.*``, the full FSL API; names it shares with ``bt`` are documented once, under ``bt``) and of
``bt.export.*`` (the exporters),
skipping modules and anything imported from outside the package. ``tests/test_docs.py`` keeps the
file current and checks that every public name has a non-empty docstring section.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import batchramp_theory as bt
from batchramp_theory import fsl

OUT = Path(__file__).with_name("api.md")


def _is_public(module, name: str) -> bool:
    if name.startswith("_"):
        return False
    obj = getattr(module, name)
    if inspect.ismodule(obj):
        return False
    # Skip names that leak from imports of other packages (e.g. importlib's PackageNotFoundError).
    home = getattr(obj, "__module__", None)
    return home is None or home.startswith("batchramp_theory") or not (inspect.isclass(obj) or callable(obj))


def public_names() -> list[str]:
    """The documented names, qualified: ``"expected_risk"`` for ``bt.*``, ``"fsl.wsd"`` for ``bt.fsl.*``."""
    top = sorted(n for n in dir(bt) if _is_public(bt, n))
    sub = sorted(n for n in dir(fsl) if _is_public(fsl, n) and n not in top)
    exp = sorted(n for n in dir(bt.export) if _is_public(bt.export, n) and n not in top)
    return top + [f"fsl.{n}" for n in sub] + [f"export.{n}" for n in exp]


def _resolve(qualified: str):
    obj = bt
    for part in qualified.split("."):
        obj = getattr(obj, part)
    return obj


def _anchors(names: list[str]) -> dict[str, str]:
    """GitHub's heading anchors of ``## `bt.NAME` ``, in order: lower case, punctuation other than ``_``
    and ``-`` dropped, and ``-1``, ``-2``, ... appended to repeats (``Tradeoff`` and ``tradeoff``)."""
    seen: dict[str, int] = {}
    out = {}
    for q in names:
        base = "bt" + q.replace(".", "").lower()
        n = seen.get(base, 0)
        seen[base] = n + 1
        out[q] = base if n == 0 else f"{base}-{n}"
    return out


def _kind(obj) -> str:
    return "class" if inspect.isclass(obj) else ("function" if callable(obj) else "constant")


def _entry(qualified: str) -> list[str]:
    obj = _resolve(qualified)
    kind = _kind(obj)
    try:
        sig = str(inspect.signature(obj)) if callable(obj) else ""
    except (TypeError, ValueError):
        sig = ""
    module = getattr(obj, "__module__", "batchramp_theory") if kind != "constant" else "batchramp_theory"
    name = qualified.rsplit(".", 1)[-1]
    lines = [f"## `bt.{qualified}`", "", f"*{kind}* in `{module}`", ""]
    if sig:
        lines += ["```python", f"{name}{sig}", "```", ""]
    doc = inspect.getdoc(obj) if kind != "constant" else f"Value: `{obj!r}`"
    return lines + [doc or "", ""]


def render() -> str:
    names = public_names()
    by_module: dict[str, list[str]] = {}
    for q in names:
        obj = _resolve(q)
        mod = getattr(obj, "__module__", "batchramp_theory") if _kind(obj) != "constant" else "batchramp_theory"
        by_module.setdefault(mod, []).append(q)
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `python docs/gen_api.py` (a test keeps it current).",
        "Import as `import batchramp_theory as bt`; the functional-scaling-law API is `bt.fsl`",
        "(its most used names are also re-exported as `bt.*` and documented there once).",
        "Theory and formulas: [theory.md](theory.md); how the package is organised: [architecture.md](architecture.md).",
        "",
        "| module | names |",
        "|---|---|",
    ]
    anchors = _anchors(names)
    for mod in sorted(by_module):
        links = ", ".join(f"[`{q}`](#{anchors[q]})" for q in by_module[mod])
        lines.append(f"| `{mod}` | {links} |")
    lines.append("")
    for q in names:
        lines += _entry(q)
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT} ({len(public_names())} names)")
