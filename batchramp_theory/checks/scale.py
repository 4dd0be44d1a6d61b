"""Scale checks: the infinite-dimensional limit by quadrature agrees with exact modes.

``scale.quadrature.*``: ``power_law_problem(dim, ..., quadrature=1000)`` against the exact
``dim``-mode problem over a whole run (batch ramp then cosine), for SGD, momentum and
NSGD(``expected``) and for the FSL mode sum; the statistic is the maximum relative error over all
steps, held to the 1% requirement of issue 7 (the construction's error is ~1e-8,
docs/performance.md). Negative control: the same nodes with unit weights (a naive log-spaced
subsample of the spectrum), which the theory of the quadrature says must miss.
"""

from __future__ import annotations

from .. import SGD, Momentum, NormalizedSGD, Problem, Schedule, constant, cosine, expected_risk, power_law_problem
from ..verify.bands import max_relative_error, within
from . import register

# The issue-7 requirement: within 1% of the exact recursion over the whole run.
_BOUND = 0.01


@register("scale.quadrature")
def quadrature(quick: bool):
    from ..fsl import mode_sum_fsl

    dim, steps = (20_000, 600) if quick else (1_000_000, 3000)
    beta, s, sigma = 1.5, 0.4, 0.5
    sched = Schedule.concatenate([constant(0.6, 2, steps), constant(0.6, 8, steps), cosine(0.6, 32, steps)])
    exact_p = power_law_problem(dim, beta, s, noise=sigma)
    quad_p = power_law_problem(dim, beta, s, noise=sigma, quadrature=1000)
    out = []
    why = f"max rel. error over {sched.steps} steps, {quad_p.dim} nodes vs {dim} exact modes (beta={beta}, s={s}); 1% requirement"
    for label, opt, scale in [("sgd", SGD(), 1.0), ("momentum", Momentum(0.5), 0.5), ("nsgd_expected", NormalizedSGD("expected"), 0.3)]:
        sc = sched.scale_lr(scale)
        err = max_relative_error(expected_risk(quad_p, sc, opt), expected_risk(exact_p, sc, opt))
        out.append(within(f"scale.quadrature.{label}", err, _BOUND, reason=why))
    err = max_relative_error(mode_sum_fsl(quad_p, sched).risk(), mode_sum_fsl(exact_p, sched).risk())
    out.append(within("scale.quadrature.fsl_mode_sum", err, _BOUND, reason=why))
    naive = Problem(quad_p.eigenvalues, quad_p.target, sigma)
    err = max_relative_error(expected_risk(naive, sched), expected_risk(exact_p, sched))
    out.append(within("scale.quadrature.negative_control", err, _BOUND, expected="fail",
                      reason="the same nodes with unit weights (a log-spaced subsample, no quadrature): must miss the 1% bound"))
    return out
