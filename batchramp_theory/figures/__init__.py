"""Registry of reproducible figures, run by ``batchramp reproduce``.

Each figure is a module here that uses only the public API and defines ``TITLE`` and
``make(out_dir: Path, quick: bool) -> list[Claim]``; it saves PNG, PDF and JSON (data and
claims) through :func:`batchramp_theory.figures._style.save`. Register it in ``FIGURES``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import NamedTuple

__all__ = ["Claim", "FIGURES", "make_figure"]

# name -> module (in the order figures appear in REPORT.md)
FIGURES: dict[str, str] = {
    "mc_vs_exact": "mc_vs_exact",
    "critical_batch_vs_budget": "critical_batch_vs_budget",
    "optimal_lr_vs_batch": "optimal_lr_vs_batch",
}


class Claim(NamedTuple):
    """One claim a figure tests: the measured value, the predicted value or band, pass/fail."""

    figure: str
    name: str
    measured: float
    predicted: str
    passed: bool
    detail: str

    def to_dict(self) -> dict:
        d = self._asdict()
        d["measured"] = float(self.measured)
        d["passed"] = bool(self.passed)
        return d


def make_figure(name: str, out_dir: Path, quick: bool = True) -> list[Claim]:
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
    module = importlib.import_module(f"{__name__}.{FIGURES[name]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return module.make(out_dir, quick)
