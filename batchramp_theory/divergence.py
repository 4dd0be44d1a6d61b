"""Divergence: detect it, report the step, never hand back a silent NaN or inf.

A run is *diverged* from the first recorded step where its excess risk is non-finite or
exceeds ``DIVERGENCE_FACTOR * max(E_0, sigma^2)``: far beyond anything a stable run reaches
(a stable run's risk stays below the initial bias plus a bounded multiple of the noise floor).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["DivergenceError", "DivergenceWarning", "divergence_threshold", "first_divergence", "DIVERGENCE_FACTOR"]

DIVERGENCE_FACTOR = 1e6


class DivergenceError(FloatingPointError):
    """Raised when a run diverged. ``steps`` holds the first diverged step per run (-1: did not)."""

    def __init__(self, message: str, steps: np.ndarray):
        super().__init__(message)
        self.steps = steps
        self.step = int(steps[steps >= 0].min()) if np.any(steps >= 0) else -1


class DivergenceWarning(RuntimeWarning):
    """Emitted instead of :class:`DivergenceError` when ``on_divergence="inf"``."""


def divergence_threshold(problem) -> float:
    return DIVERGENCE_FACTOR * max(problem.initial_risk, float(problem.noise) ** 2, 1e-300)


def first_divergence(risk: np.ndarray, threshold: float) -> np.ndarray:
    """Index of the first entry along the last axis that is non-finite or above ``threshold`` (-1: none)."""
    bad = ~np.isfinite(risk) | (risk > threshold)
    first = np.argmax(bad, axis=-1)
    return np.where(bad.any(axis=-1), first, -1)


def handle_divergence(risk: np.ndarray, steps: np.ndarray, problem, on_divergence: str, *, what: str, step_index=None) -> np.ndarray:
    """Apply the ``on_divergence`` policy to ``risk`` of shape ``(S, ..., n)``.

    ``steps`` gives each schedule's true length (padded tails are ignored); ``step_index``
    maps the last axis to optimizer steps (defaults to ``arange(n)``).
    """
    if on_divergence not in ("raise", "inf"):
        raise ValueError(f"on_divergence must be 'raise' or 'inf', got {on_divergence!r}")
    n = risk.shape[-1]
    step_index = np.arange(n) if step_index is None else np.asarray(step_index)
    first = first_divergence(risk, divergence_threshold(problem))
    first_step = np.where(first >= 0, step_index[np.maximum(first, 0)], -1)
    valid = first_step <= np.asarray(steps).reshape((-1,) + (1,) * (first_step.ndim - 1))
    first_step = np.where(valid, first_step, -1)
    if np.all(first_step < 0):
        return risk
    where = np.argwhere(first_step >= 0)
    desc = ", ".join(f"run {tuple(int(i) for i in w)} at step {int(first_step[tuple(w)])}" for w in where[:5])
    more = f" (and {len(where) - 5} more)" if len(where) > 5 else ""
    msg = (
        f"{what} diverged: {desc}{more}. The learning rate exceeds the stability limit "
        f"(see bt.stability_limit) or the run is otherwise unstable."
    )
    if on_divergence == "raise":
        raise DivergenceError(msg, first_step)
    warnings.warn(msg, DivergenceWarning, stacklevel=3)
    out = risk.copy()
    mask = (step_index >= np.where(first_step >= 0, first_step, np.iinfo(np.int64).max)[..., None])
    out[mask] = np.inf
    return out
