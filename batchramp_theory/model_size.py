"""The model-size axis: optimal LR, critical batch and LR sensitivity against random-feature width.

For each width ``w`` the random-feature model (:func:`batchramp_theory.random_features`) is reduced
exactly to a diagonal problem, and :func:`batchramp_theory.lr_sweep` tunes a constant LR per batch
at a data budget ``D`` on the exact recursion. The LR grid is ``c / tr K_w`` for a shared grid of
``c``: with the ``1/width`` feature scaling ``tr K_w ~ tr H``, so this is the same raw LR at every
width (up to the few-% drift of ``tr K_w``); with ``scaling="none"`` (``tr K_w ~ w tr H``) the raw
LR that is optimal falls like ``1/w``, which the ``model_size.*`` negative controls use.

Read-outs per ``(width, batch)`` (Time Transfer's claims, docs/problems.md, "Model size"):
``eta*(B, D)``; ``B_crit(D)``, the largest batch whose tuned loss is within ``tolerance`` of the
best batch's (:meth:`LRSweep.batch_within`); and the LR sensitivity, both of
:class:`~batchramp_theory.critical_batch.lr_sweep.LRSweep`'s definitions, with the loss measured
over the *input-space* optimum (feature excess risk plus ``a/2``, ``a`` the approximation error),
the loss a practitioner sees.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_int, check_scalar
from .critical_batch import lr_sweep
from .random_features import random_features

__all__ = ["WidthStudy", "width_study"]


class WidthStudy(NamedTuple):
    """Tuned-LR read-outs on a ``(width, batch)`` grid at one data budget.

    Attributes:
        widths: ``(W,)``.
        batches: ``(n,)``.
        budget: the data budget ``D`` in samples.
        best_lr: ``(W, n)`` ``eta*(B, D)`` (raw learning rate).
        best_loss: ``(W, n)`` the tuned loss over the input-space optimum.
        critical_batch: ``(W,)`` largest batch within ``tolerance`` of the best batch's tuned loss.
        critical_batch_features: ``(W,)`` the same on the feature excess risk alone (no ``a/2``).
        curvature: ``(W, n)`` ``d^2 ln loss / d(ln eta)^2`` at ``eta*`` (total loss).
        curvature_features: ``(W, n)`` the same for the feature excess risk alone.
        relative_sensitivity: ``(W, n)`` mean excess loss over the LR grid (log-uniform,
            capped at the initial loss) divided by the tuned loss.
        trace: ``(W,)`` ``tr K_w``.
        approximation_error: ``(W,)`` ``a_w``.
    """

    widths: np.ndarray
    batches: np.ndarray
    budget: int
    best_lr: np.ndarray
    best_loss: np.ndarray
    critical_batch: np.ndarray
    critical_batch_features: np.ndarray
    curvature: np.ndarray
    curvature_features: np.ndarray
    relative_sensitivity: np.ndarray
    trace: np.ndarray
    approximation_error: np.ndarray


def width_study(dim: int, widths, capacity: float, source: float, noise: float, batches, budget: int, *,
                seed: int = 0, scaling: str = "width", lr_factors=None, tolerance: float = 0.1) -> WidthStudy:
    """Tune a constant LR for every ``(width, batch)`` at budget ``D`` (module docstring).

    Args:
        dim: input dimension of the power-law inputs.
        widths: feature counts to compare.
        capacity, source, noise: the input problem (:func:`batchramp_theory.power_law_problem`).
        batches: batch sizes.
        budget: data budget ``D`` in samples (batch ``B`` runs ``D // B`` steps).
        seed: seed of every width's ``W`` (the same seed: nested draws are not needed, the
            widths' matrices are independent).
        scaling: ``"width"`` (transferring parametrisation) or ``"none"`` (see
            :func:`batchramp_theory.random_features`).
        lr_factors: grid of ``c``; the LR grid is ``c / tr H`` (``tr H`` of the inputs, shared by
            every width); default 48 points from ``1e-4`` to ``4``.
        tolerance: relative loss excess that defines the critical batch.
    """
    widths = np.array([check_int("widths", w, low=1) for w in np.atleast_1d(widths)])
    budget = check_int("budget", budget, low=1)
    tolerance = check_scalar("tolerance", tolerance, low=0.0, low_open=True)
    c = np.geomspace(1e-4, 4.0, 48) if lr_factors is None else np.asarray(lr_factors, dtype=np.float64)
    fields = {k: [] for k in ("best_lr", "best_loss", "crit", "crit_f", "curv", "curv_f", "rel", "trace", "approx")}
    b = None
    for w in widths:
        m = random_features(dim, int(w), capacity, source, noise, seed, scaling=scaling)
        p = m.problem
        sw = lr_sweep(p, batches, budget=budget, lrs=c / m.base.trace)
        b = sw.batches
        half_a = 0.5 * m.approximation_error
        total = np.where(np.isfinite(sw.loss), sw.loss + half_a, np.inf)
        best = sw.best_loss + half_a
        e0 = p.initial_risk + half_a
        sens = np.mean(np.minimum(total, e0), axis=1) - best
        fields["best_lr"].append(sw.best_lr)
        fields["best_loss"].append(best)
        ok = best <= (1 + tolerance) * np.nanmin(best)
        fields["crit"].append(int(b[ok].max()))
        fields["crit_f"].append(sw.batch_within(tolerance))
        fields["curv_f"].append(sw.curvature)
        # d^2 ln(L + a/2) = L''/(L + a/2) at the optimum (L' = 0): rescale the feature curvature.
        fields["curv"].append(sw.curvature * sw.best_loss / best)
        fields["rel"].append(sens / best)
        fields["trace"].append(p.trace)
        fields["approx"].append(m.approximation_error)
    return WidthStudy(widths, np.asarray(b), budget, np.array(fields["best_lr"]), np.array(fields["best_loss"]),
                      np.array(fields["crit"]), np.array(fields["crit_f"]), np.array(fields["curv"]),
                      np.array(fields["curv_f"]), np.array(fields["rel"]),
                      np.array(fields["trace"]), np.array(fields["approx"]))
