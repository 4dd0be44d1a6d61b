"""Registered theory checks, run by ``batchramp check``.

A check is a function ``fn(quick: bool) -> list[CheckResult]`` registered with
:func:`register`. Each result states what was measured (``statistic``), the ``bound`` it was
held to, whether it ``passed`` (statistic within bound), what the theory ``expected``
(``"pass"``, or ``"fail"`` for a negative control: a schedule pair the theory says is *not*
equivalent must fail), and a one-line ``reason``. A check *agrees* with theory when
``passed == (expected == "pass")``; ``batchramp check`` exits non-zero otherwise.

Check modules live beside this file and are listed in ``_MODULES``; importing one
registers its checks.
"""

from __future__ import annotations

import importlib
from typing import Callable, NamedTuple

__all__ = ["CheckResult", "register", "registered", "run_checks", "agrees"]

# Modules whose import registers checks (one per theory area).
_MODULES = ["core", "equivalence", "fsl", "critical_batch", "scale"]

_REGISTRY: dict[str, Callable[[bool], list["CheckResult"]]] = {}


class CheckResult(NamedTuple):
    """Outcome of one check.

    Attributes:
        name: dotted name, e.g. ``"sgd.equivalence.decay_vs_ramp"``.
        statistic: the measured number (ratio, z-score, exponent, ...).
        bound: the tolerance it was held to (a number or a ``(low, high)`` band).
        passed: whether ``statistic`` lies within ``bound``.
        expected: ``"pass"``, or ``"fail"`` for a negative control.
        reason: one line saying what was compared and why the bound is what it is.
    """

    name: str
    statistic: float
    bound: float | tuple[float, float]
    passed: bool
    expected: str
    reason: str

    @property
    def agrees(self) -> bool:
        return self.passed == (self.expected == "pass")

    def to_dict(self) -> dict:
        d = self._asdict()
        d["statistic"] = float(self.statistic)
        d["bound"] = list(self.bound) if isinstance(self.bound, tuple) else float(self.bound)
        d["passed"] = bool(self.passed)
        d["agrees"] = bool(self.agrees)
        return d


def agrees(results: list[CheckResult]) -> bool:
    return all(r.agrees for r in results)


def register(group: str):
    """Decorator registering ``fn(quick) -> list[CheckResult]`` under ``group``."""

    def deco(fn):
        if group in _REGISTRY:
            raise ValueError(f"check group {group!r} registered twice")
        _REGISTRY[group] = fn
        return fn

    return deco


def registered() -> dict[str, Callable]:
    """All registered check groups (imports every check module)."""
    for mod in _MODULES:
        importlib.import_module(f"{__name__}.{mod}")
    return dict(_REGISTRY)


def run_checks(quick: bool = True, select: list[str] | None = None, progress: bool = False) -> list[CheckResult]:
    """Run every registered group (or those whose name starts with one of ``select``)."""
    groups = registered()
    names = [g for g in groups if not select or any(g.startswith(s) for s in select)]
    if select and not names:
        raise ValueError(f"no check group matches {select}; known: {sorted(groups)}")
    results: list[CheckResult] = []
    if progress:
        from rich.progress import Progress

        with Progress(transient=True) as prog:
            task = prog.add_task("checks", total=len(names))
            for g in names:
                prog.update(task, description=g)
                results += groups[g](quick)
                prog.advance(task)
    else:
        for g in names:
            results += groups[g](quick)
    return results


def z_band_check(name, mc: "np.ndarray", exact: "np.ndarray", *, k: float, expected: str, reason: str) -> CheckResult:
    """Max |z| of Monte Carlo means (runs on axis 0) against exact values, held to ``k``."""
    import numpy as np

    se = mc.std(axis=0, ddof=1) / np.sqrt(mc.shape[0])
    z = np.abs(mc.mean(axis=0) - exact) / np.where(se > 0, se, np.inf)
    stat = float(np.max(z))
    return CheckResult(name, stat, k, stat <= k, expected, reason)
