"""Equivalence checks on a user's problem: ``batchramp check --problem FILE`` (docs/cli.md, "A problem from a file").

:func:`problem_checks` builds three groups from any :class:`~batchramp_theory.Problem` (not
registered in the global registry: they need a problem, which the registered checks fix
themselves). Each comparison is at equal samples per phase, as in :mod:`.equivalence`, and has a
negative control that must fail:

- ``problem.sgd``: Theorem 1, LR decay ``(2, 1)`` vs its batch ramp ``(1, 2)`` (``alpha beta = 2``),
  control the ``(1, 4)`` ramp (product 4);
- ``problem.nsgd``: Corollary 1 for ``NormalizedSGD("expected")``, LR decay vs Seesaw
  ``(sqrt 2, 2)``, control the SGD rule ``(1, 2)``;
- ``problem.mc_vs_exact``: Monte Carlo of a batch ramp against the exact recursion (z-band),
  control the recursion of a different ramp; only for an unweighted problem with
  ``d <= MAX_MC_DIM`` (:func:`mc_skip_reason` says why it is skipped otherwise).

The learning rates are stated fractions of the problem's SGD stability limit
(:func:`batchramp_theory.stability_limit`) at the initial batch.
"""

from __future__ import annotations

import math

from .. import (
    SGD,
    NormalizedSGD,
    constant,
    expected_risk,
    phase_end_risks,
    phase_schedule,
    simulate,
    stability_limit,
    warm_start_steps,
)
from ..verify.bands import max_log_ratio, within, z_band
from ..verify.predictions import nsgd_matching_lr

__all__ = ["problem_checks", "mc_skip_reason", "MAX_MC_DIM", "LR_FRACTION"]

SQ2 = math.sqrt(2.0)
#: Monte Carlo vs exact only up to this dimension (the simulator's cost is runs x steps x d).
MAX_MC_DIM = 4096
#: Learning rate (effective SGD lr for NSGD) as a fraction of the SGD stability limit at ``B0``.
LR_FRACTION = 0.01
# Theorem 1 / Corollary 1 bands. With lr = 0.01 x the stability limit (which is below 2/lambda_max),
# lr lambda_max <= 0.02, and Lemma 3's phase contractions agree up to O(lr lambda) factors: 2%.
# NSGD adds the (1 - noise fraction) correction of the expected normaliser (Assumption 2): 5%.
_SGD_BAND = 0.02
_NSGD_BAND = 0.05
# Monte Carlo: 5 standard errors over ~12 recorded steps (false alarm ~1e-5; fixed seed).
_K = 5.0
_B0 = 8
_B0_NSGD = 1  # the smallest batch keeps the noise share of E|g|^2 largest (Corollary 1's Assumption 2)
_MAX_WARM = 1 << 14


def mc_skip_reason(problem) -> str | None:
    """Why ``problem.mc_vs_exact`` is skipped for ``problem`` (``None``: it runs)."""
    if problem.is_weighted:
        return "problem.mc_vs_exact skipped: the problem has quadrature weights (the simulator needs one node per mode)"
    if problem.dim > MAX_MC_DIM:
        return f"problem.mc_vs_exact skipped: d = {problem.dim} > {MAX_MC_DIM} (Monte Carlo cost runs x steps x d)"
    return None


def _phases(problem, lr, b0, k, steps, optimizer=None):
    """A common warm start until the risk reaches ``sigma^2`` (at least ``steps``, at most 2^14 steps), then ``k - 1`` phases of as many samples.

    Phases as long as the warm start make both processes move: at equal samples the ``(1, 4)``
    control covers half the intrinsic time of ``(2, 1)`` per phase, which shows in the risk.
    """
    try:
        warm = warm_start_steps(problem, lr, b0, optimizer, level=1.0, max_steps=_MAX_WARM)
    except ValueError:  # a slow (hard, low-noise) problem: Theorem 1 needs no warm start, so cap it
        warm = _MAX_WARM
    p0 = max(steps, warm)
    return p0, [p0 * b0] * k


def _sgd(problem, quick):
    k = 4 if quick else 5
    steps = 16 * 4 ** (k - 1)  # the (1, 4) control keeps >= 16 steps in its last phase
    lim = stability_limit(problem, _B0)
    lr = LR_FRACTION * lim
    p0, ss = _phases(problem, lr, _B0, k, steps)
    r = phase_end_risks(problem, [phase_schedule(lr, _B0, a, b, ss) for a, b in [(2.0, 1.0), (1.0, 2.0), (1.0, 4.0)]])
    where = (f"SGD, d={problem.dim}, B0={_B0}, lr={LR_FRACTION:g} x stability limit ({lim:.3g}), {k} phases, "
             f"warm start {p0} steps, max |log ratio| at phase ends")
    return [
        within("problem.sgd.decay_vs_ramp", max_log_ratio(r[0], r[1]), _SGD_BAND,
               reason=f"(2,1) vs (1,2) [Theorem 1, alpha*beta=2]; band: lr lambda_max <= {2 * LR_FRACTION:g} (Lemma 3); {where}"),
        within("problem.sgd.mismatched_product", max_log_ratio(r[0], r[2]), _SGD_BAND, expected="fail",
               reason=f"negative control: (2,1) vs (1,4), products 2 vs 4; {where}"),
    ]


def _nsgd(problem, quick):
    k = 4 if quick else 5
    steps = 16 * 4 ** (k - 1)  # the (1, 4) control keeps >= 16 steps in its last phase
    opt = NormalizedSGD("expected")
    lim = stability_limit(problem, _B0_NSGD)
    lr = nsgd_matching_lr(LR_FRACTION * lim, float(problem.noise), problem.trace, _B0_NSGD)
    p0, ss = _phases(problem, lr, _B0_NSGD, k, steps, opt)
    r = phase_end_risks(problem, [phase_schedule(lr, _B0_NSGD, a, b, ss) for a, b in [(2.0, 1.0), (SQ2, 2.0), (1.0, 2.0)]], opt)
    where = (f"NSGD(expected), d={problem.dim}, sigma={float(problem.noise):.3g}, B0={_B0_NSGD}, effective lr {LR_FRACTION:g} x "
             f"the SGD stability limit, {k} phases, warm start {p0} steps")
    return [
        within("problem.nsgd.seesaw", max_log_ratio(r[0], r[1]), _NSGD_BAND,
               reason=f"(2,1) vs Seesaw (sqrt2,2) [Corollary 1, alpha*sqrt(beta)=2]; band 5%: Lemma 3's 2% plus the "
                      f"expected normaliser's signal fraction (Assumption 2); {where}"),
        within("problem.nsgd.sgd_rule", max_log_ratio(r[0], r[2]), _NSGD_BAND, expected="fail",
               reason=f"negative control: the SGD rule (1,2) under NSGD (alpha*sqrt(beta)=1.41 != 2); {where}"),
    ]


def _mc(problem, quick):
    steps, runs = (200, 200) if quick else (1000, 1000)
    lr = 0.25 * stability_limit(problem, _B0)
    rec = sorted({int(x) for x in [1, 2, 5, 10, 20, 50, 100, 200, 300, 400] if x <= 2 * steps} | {2 * steps})
    ramp = constant(lr, _B0, steps) + constant(lr, 2 * _B0, steps)
    wrong = constant(lr, _B0, steps) + constant(lr, 16 * _B0, steps)
    mc = simulate(problem, ramp, SGD(), num_runs=runs, seed=13, record_steps=rec)
    where = f"SGD, d={problem.dim}, lr=0.25 x stability limit, ramp {_B0}->{2 * _B0} at step {steps}, {runs} runs (seed 13)"
    return [
        z_band("problem.mc_vs_exact.sgd", mc, expected_risk(problem, ramp, SGD(), record_steps=rec), k=_K,
               reason=f"MC mean vs exact recursion, max |z| over {len(rec)} steps (5 SE); {where}"),
        z_band("problem.mc_vs_exact.negative_control", mc, expected_risk(problem, wrong, SGD(), record_steps=rec), k=_K,
               expected="fail", reason=f"negative control: the same MC against the recursion of ramp {_B0}->{16 * _B0}; {where}"),
    ]


def problem_checks(problem, quick: bool = True) -> list:
    """The equivalence checks of the module docstring on ``problem`` (a list of :class:`~batchramp_theory.verify.result.CheckResult`).

    ``problem.mc_vs_exact`` is left out when :func:`mc_skip_reason` gives a reason.
    """
    out = _sgd(problem, quick) + _nsgd(problem, quick)
    if mc_skip_reason(problem) is None:
        out += _mc(problem, quick)
    return out
