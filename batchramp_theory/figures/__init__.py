"""Registry of reproducible figures, run by ``batchramp reproduce``.

Each figure is a module here that uses only the public API and defines ``TITLE`` and
``make(out_dir: Path, quick: bool) -> list[Claim]``; it saves PNG, PDF and JSON (data and
claims) through :func:`batchramp_theory.figures._style.save`, whose ``problem=`` line (the problem
and run settings) is printed on the figure. Register it in ``FIGURES``.

A claim is a :class:`batchramp_theory.verify.CheckResult` with ``figure`` and ``predicted`` set
(``Claim`` builds one in the historical argument order); figures build claims with the helpers
of :mod:`batchramp_theory.verify.bands` and take their predictions from
:mod:`batchramp_theory.verify.predictions`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from batchramp_theory.verify.result import Claim

__all__ = ["Claim", "FIGURES", "make_figure"]

# name -> module (in the order figures appear in REPORT.md)
FIGURES: dict[str, str] = {
    "mc_vs_exact": "mc_vs_exact",
    # Equivalence engine (LR decay vs batch ramp): Seesaw family, step accounting, critical batch.
    "seesaw_family": "seesaw_family",
    "step_reduction": "step_reduction",
    "critical_batch_breakdown": "critical_batch_breakdown",
    # Functional scaling laws: FSL vs simulation, optimal batch schedules, catch-up, budgets.
    "fsl_vs_simulation": "fsl_vs_simulation",
    "optimal_batch": "optimal_batch",
    "catchup": "catchup",
    "late_vs_early_switch": "late_vs_early_switch",
    "loss_vs_budget": "loss_vs_budget",
    # Critical batch and optimal LR vs budget.
    "critical_batch_vs_budget": "critical_batch_vs_budget",
    "optimal_lr_vs_batch": "optimal_lr_vs_batch",
    # The planner: the steps/samples front with LR and batch optimised jointly.
    "planner_front": "planner_front",
    # Smith et al.: decay vs ramp vs hybrid, with momentum.
    "smith_schedules": "smith_schedules",
    # Beyond the power law: model size (random-feature width) and real data.
    "model_size": "model_size",
    "digits_gaussian_equivalence": "digits_gaussian_equivalence",
}


def make_figure(name: str, out_dir: Path, quick: bool = True) -> list[Claim]:
    """Make figure ``name`` in ``out_dir`` (PNG, PDF, JSON) and return its claims."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
    module = importlib.import_module(f"{__name__}.{FIGURES[name]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return module.make(out_dir, quick)
