"""Regenerate docs/api.md from the docstrings of every public name: python docs/gen_api.py."""

from __future__ import annotations

import inspect
from pathlib import Path

import batchramp_theory as bt

OUT = Path(__file__).with_name("api.md")


def public_names() -> list[str]:
    return sorted(n for n in dir(bt) if not n.startswith("_") and not inspect.ismodule(getattr(bt, n)))


def render() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `python docs/gen_api.py` (a test keeps it current).",
        "Import as `import batchramp_theory as bt`.",
        "",
    ]
    for name in public_names():
        obj = getattr(bt, name)
        try:
            sig = str(inspect.signature(obj)) if callable(obj) else ""
        except (TypeError, ValueError):
            sig = ""
        kind = "class" if inspect.isclass(obj) else ("function" if callable(obj) else "constant")
        module = getattr(obj, "__module__", "batchramp_theory") if kind != "constant" else "batchramp_theory"
        lines += [f"## `bt.{name}`", "", f"*{kind}* in `{module}`", ""]
        if sig:
            lines += ["```python", f"{name}{sig}", "```", ""]
        doc = inspect.getdoc(obj) if kind != "constant" else f"Value: `{obj!r}`"
        lines += [doc or "", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT} ({len(public_names())} names)")
