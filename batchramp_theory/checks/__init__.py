"""Registered theory checks, run by ``batchramp check``.

A check is a function ``fn(quick: bool) -> list[CheckResult]`` registered with
:func:`register`. Each result states what was measured (``statistic``), the ``bound`` it was
held to, whether it ``passed`` (statistic within bound), what the theory ``expected``
(``"pass"``, or ``"fail"`` for a negative control: a schedule pair the theory says is *not*
equivalent must fail), and a one-line ``reason``. A check *agrees* with theory when
``passed == (expected == "pass")``; ``batchramp check`` exits non-zero otherwise.

The result type and the band helpers are those of :mod:`batchramp_theory.verify`
(:class:`~batchramp_theory.verify.result.CheckResult`, :mod:`~batchramp_theory.verify.bands`),
shared with the figures; theory predictions come from
:mod:`batchramp_theory.verify.predictions`.

Check modules live beside this file and are listed in ``_MODULES``; importing one
registers its checks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..verify.bands import z_band
from ..verify.result import CheckResult, agrees

__all__ = ["CheckResult", "register", "registered", "run_checks", "agrees"]

# Modules whose import registers checks (one per theory area).
_MODULES = ["core", "equivalence", "fsl", "critical_batch", "scale", "data", "model_size", "plan"]

_REGISTRY: dict[str, Callable[[bool], list[CheckResult]]] = {}


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


# Deprecated spelling of :func:`batchramp_theory.verify.bands.z_band` (same signature).
z_band_check = z_band
