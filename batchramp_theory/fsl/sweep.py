"""Difficulty sweeps: optimal switch, gain over the best constant batch and catch-up time per ``(beta, s)``.

One grid point is a dict of plain numbers (capacity, source, noise, budget, lr, b_min, b_max,
batch1, batch2, eps, exact_dim); :func:`sweep_point` evaluates it from the FSL closed forms of
:mod:`batchramp_theory.fsl.optimal` (any budget, milliseconds) and, when ``exact_dim > 0``, also
runs the chosen schedules through the exact recursion. ``batchramp sweep`` maps it over a grid
with :func:`batchramp_theory.grid.run_grid` (per-point atomic files, resumable).

A point may also name a problem file (``problem_file``, with its ``problem_sha256``; written by
``batchramp sweep --problem``): its capacity and source are then the exponents fitted to the file
(:func:`batchramp_theory.fit_exponents`), and the stability limit and the exact runs use the
file's problem itself instead of a power law (``exact_dim`` is then the file's dimension).
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numpy as np

from .._validation import check_int, check_scalar
from .catchup import catchup_shape
from .optimal import batch_problem, best_constant_batch, optimal_batch_schedule, optimal_two_stage, regime

__all__ = ["sweep_point", "validate_point", "fsl_catchup_time", "stability_of_point", "point_problem", "file_digest",
           "RESULT_KEYS"]

# Columns of a sweep result, in table order.
RESULT_KEYS = (
    "regime",
    "switch_fraction",
    "batch2",
    "gain_two_stage",
    "gain_optimal",
    "best_constant_batch",
    "catchup_time",
    "catchup_fraction",
    "loss_constant",
    "loss_two_stage",
    "loss_optimal",
    "growth_fraction",
    "lr_stability_limit",
    "stable",
)

# Exact evaluation walks every step: refuse budgets that would take minutes per point.
MAX_EXACT_STEPS = 2_000_000


def validate_point(point: dict) -> dict:
    """Check one grid point; returns it with floats (``ValueError`` naming the bad field)."""
    required = ("capacity", "source", "noise", "budget", "lr", "b_min", "b_max", "batch1", "batch2", "eps", "exact_dim")
    missing = [k for k in required if k not in point]
    if missing:
        raise ValueError(f"grid point is missing {missing}")
    q = dict(point)
    check_scalar("capacity", q["capacity"], low=1.0, low_open=True)
    check_scalar("source", q["source"], low=0.0, low_open=True)
    check_scalar("noise", q["noise"], low=0.0, low_open=True)
    check_scalar("lr", q["lr"], low=0.0, low_open=True)
    b_min = check_scalar("b_min", q["b_min"], low=1.0)
    b_max = float(q["b_max"])
    if not b_max >= b_min:
        raise ValueError(f"b_max ({b_max}) must be >= b_min ({b_min})")
    b1 = check_scalar("batch1", q["batch1"], low=b_min)
    budget = check_scalar("budget", q["budget"], low=0.0, low_open=True)
    if q["batch2"] is None:  # optimised per point
        if not b1 < min(b_max, budget):
            raise ValueError(f"batch1 ({b1:g}) leaves no room for a larger batch2 below b_max/budget ({min(b_max, budget):g})")
    else:
        b2 = check_scalar("batch2", q["batch2"], low=0.0, low_open=True)
        if not b1 < b2 <= b_max:
            raise ValueError(f"need b_min <= batch1 < batch2 <= b_max, got batch1={b1:g}, batch2={b2:g}, b_max={b_max:g}")
        if budget < b2:
            raise ValueError(f"budget ({budget:g}) must hold at least one batch2 ({b2:g})")
    check_scalar("eps", q["eps"], low=0.0, high=1.0, low_open=True, high_open=True)
    dim = check_int("exact_dim", q["exact_dim"], low=0)
    if ("problem_file" in q) != ("problem_sha256" in q):
        raise ValueError("a grid point names a problem_file together with its problem_sha256, or neither")
    if dim and budget / b_min > MAX_EXACT_STEPS:
        raise ValueError(f"exact_dim needs budget/b_min <= {MAX_EXACT_STEPS} steps, got {budget / b_min:.3g}")
    return q


def file_digest(path) -> str:
    """SHA-256 of a file's bytes (hex): a sweep point names its problem file by path and content."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.lru_cache(maxsize=4)
def _load_file(path: str, digest: str, noise: float):
    from ..problem_file import load_problem

    if file_digest(path) != digest:
        raise ValueError(f"problem_file {path} changed since the sweep started (sha256 differs); start a new --out")
    return load_problem(path, noise)


def point_problem(point: dict):
    """The problem a point's stability limit and exact runs use.

    The file's problem (:func:`batchramp_theory.load_problem`, with the point's ``noise`` for a
    file that has none) when the point names a ``problem_file``; otherwise the power law of the
    point's capacity and source at dimension ``exact_dim``, or ``d = inf`` by a 1000-node
    quadrature when ``exact_dim`` is 0 (:func:`batchramp_theory.power_law_problem`).
    """
    from ..problem import power_law_problem

    if "problem_file" in point:
        return _load_file(str(point["problem_file"]), str(point["problem_sha256"]), float(point["noise"]))
    dim = int(point["exact_dim"]) or None
    return power_law_problem(dim, float(point["capacity"]), float(point["source"]), float(point["noise"]),
                             quadrature=None if dim else 1000)


def fsl_catchup_time(pb, batch1: float, batch2: float, switch_samples: float, eps: float) -> float:
    """FSL catch-up time after a switch at ``P`` samples: first ``Delta`` with gap <= ``eps`` x large-batch loss.

    Gap (the label-noise part of the power-law FSL, :func:`~batchramp_theory.fsl.catchup_shape`):
    ``c3 eta sigma^2 tau_K/a (1/B1 - 1/B2) G(Delta)``; large-batch loss at equal steps:
    ``c1 (1+tau/tau_e)^-s + c3 eta sigma^2 tau_K/(a B2) (1 - (1+tau/tau_K)^-a)``, ``tau = tau0 + Delta``.
    Returns ``inf`` if not reached within ``1e6 tau0``; ``nan`` without a switch (``P = 0``).
    """
    if switch_samples <= 0:
        return float("nan")
    a, tk = pb.a, pb.tau_kernel
    tau0 = pb.lr * switch_samples / batch1
    amp = pb.c_noise * pb.lr * pb.noise**2 * tk / a * (1.0 / batch1 - 1.0 / batch2)

    def excess(delta):
        tau = tau0 + delta
        large = pb.c_signal * (1 + tau / pb.tau_signal) ** -pb.source + pb.c_noise * pb.lr * pb.noise**2 * tk / (a * batch2) * (1 - (1 + tau / tk) ** -a)
        return amp * catchup_shape(delta / tk, tau0 / tk, pb.capacity) - eps * large

    hi = 1e6 * max(tau0, 1.0)
    grid = np.concatenate([[0.0], np.geomspace(1e-3, hi, 600)])
    ex = excess(grid)
    bad = np.nonzero(ex <= 0)[0]
    if bad.size == 0:
        return float("inf")
    i = int(bad[0])
    if i == 0:
        return 0.0
    lo_x, hi_x = grid[i - 1], grid[i]  # first crossing lies in this bracket: bisect it
    for _ in range(100):
        mid = 0.5 * (lo_x + hi_x)
        if excess(mid) > 0:
            lo_x = mid
        else:
            hi_x = mid
    return float(hi_x)


def sweep_point(point: dict) -> dict:
    """Evaluate one ``(capacity, source, noise, budget, ...)`` point (FSL closed forms, unit constants).

    Returns the :data:`RESULT_KEYS` (and ``exact_*`` keys when ``exact_dim > 0``):
    ``switch_fraction`` ``P*/D`` of the optimal two-stage ``batch1 -> batch2`` switch (``batch2``
    optimised too when the point's ``batch2`` is ``None``; the result's ``batch2`` is the one used);
    ``gain_two_stage`` / ``gain_optimal``: best-constant-batch loss divided by the two-stage /
    optimal-schedule loss (> 1 means the schedule wins); ``catchup_time``: FSL catch-up time
    (intrinsic) after the optimal switch, ``catchup_fraction`` = that over the horizon (NaN if
    the optimal switch is immediate); ``growth_fraction``: final fraction of the optimal
    schedule that grows above ``b_min``; ``lr_stability_limit`` / ``stable``: see
    :func:`stability_of_point` (the FSL columns describe no run when ``stable`` is false).
    """
    q = validate_point(point)
    pb = batch_problem(
        source=q["source"], capacity=q["capacity"], budget=q["budget"], noise=q["noise"], lr=q["lr"],
        b_min=q["b_min"], b_max=q["b_max"],
    )
    b1 = float(q["batch1"])
    const = best_constant_batch(pb)
    ts = optimal_two_stage(pb, b1, None if q["batch2"] is None else float(q["batch2"]))
    b2 = ts.batch2
    opt = optimal_batch_schedule(pb)
    dt = fsl_catchup_time(pb, b1, b2, ts.switch_samples, float(q["eps"]))
    res = {
        "regime": regime(pb.source, pb.capacity),
        "switch_fraction": ts.switch_fraction,
        "batch2": b2,
        "gain_two_stage": const.loss / ts.loss,
        "gain_optimal": const.loss / opt.loss,
        "best_constant_batch": const.batch,
        "catchup_time": dt,
        "catchup_fraction": dt / ts.horizon,
        "loss_constant": const.loss,
        "loss_two_stage": ts.loss,
        "loss_optimal": opt.loss,
        "growth_fraction": opt.growth_fraction,
    }
    res.update(stability_of_point(q))
    if q["exact_dim"]:
        res.update(_exact_gains(q, pb, ts, opt))
    return res


def stability_of_point(point: dict) -> dict:
    """The SGD stability limit at the point's smallest batch ``b_min`` and whether ``lr`` is below it.

    ``lr_stability_limit``: :func:`batchramp_theory.stability_limit` (mean-square stability of
    constant ``(lr, b_min)``; docs/recursions.md, "Stability limit") of :func:`point_problem`: the
    power-law problem with the point's capacity, at dimension ``exact_dim``, or ``d = inf`` by a
    1000-node quadrature when ``exact_dim`` is 0; the file's problem for a point with a
    ``problem_file``. ``stable``: ``lr < lr_stability_limit``. Past the limit a run at ``b_min``
    diverges and the FSL closed forms, which do not see it, describe no run.
    """
    from ..stability import stability_limit

    p = point_problem(point)
    limit = stability_limit(p, float(point["b_min"]))
    return {"lr_stability_limit": limit, "stable": bool(float(point["lr"]) < limit)}


def _exact_gains(q, pb, ts, opt) -> dict:
    """Exact final risks (``bt.expected_risk``) of the best integer constant batch, the two-stage and the optimal schedule.

    A diverged run (:mod:`batchramp_theory.divergence`) is reported, not summed up: its loss and
    gain are NaN and ``exact_diverged_two_stage`` / ``exact_diverged_optimal`` hold its first
    diverged step (-1: it did not diverge); ``exact_diverged_constants`` counts the diverged
    constant-batch candidates, which are left out of the best constant batch.
    """
    import warnings

    from ..divergence import DivergenceWarning, divergence_threshold, first_divergence
    from ..recursions import expected_risk
    from ..schedules import constant, two_stage

    p = point_problem(q)
    D = int(round(pb.budget))
    b1, b2 = int(round(q["batch1"])), int(round(ts.batch2))
    lo, hi = int(math.ceil(pb.b_min)), int(min(pb.b_max, D))
    cands = sorted({b for b in np.unique(np.geomspace(lo, hi, 24).round().astype(int)) if lo <= b <= hi})
    consts = [constant(pb.lr, b, max(1, D // b)) for b in cands]
    n1 = int(round(ts.switch_samples / b1))
    n2 = max(0, (D - n1 * b1) // b2)
    scheds = consts + [two_stage(pb.lr, b1, b2, n1, n2), opt.to_schedule()]
    with warnings.catch_warnings():  # reported below, with the step, instead of as warnings
        warnings.simplefilter("ignore", DivergenceWarning)
        r = np.asarray(expected_risk(p, scheds, on_divergence="inf"))
    lengths = np.array([s.steps for s in scheds])
    first = first_divergence(r, divergence_threshold(p))
    first = np.where(first <= lengths, first, -1)  # padding past a schedule's end does not count
    final = np.array([r[i, s.steps] if first[i] < 0 else np.nan for i, s in enumerate(scheds)])
    const_final = final[: len(consts)]
    ok = np.isfinite(const_final)
    best = float(np.min(const_final[ok])) if ok.any() else float("nan")
    return {
        "exact_loss_constant": best,
        "exact_best_constant_batch": float(cands[int(np.nanargmin(const_final))]) if ok.any() else float("nan"),
        "exact_loss_two_stage": float(final[-2]),
        "exact_loss_optimal": float(final[-1]),
        "exact_gain_two_stage": best / float(final[-2]),
        "exact_gain_optimal": best / float(final[-1]),
        "exact_diverged_two_stage": int(first[-2]),
        "exact_diverged_optimal": int(first[-1]),
        "exact_diverged_constants": int(np.sum(first[: len(consts)] >= 0)),
    }
