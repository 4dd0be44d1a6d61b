"""Core-engine checks: Monte Carlo against the exact recursions, with negative controls."""

from __future__ import annotations

import numpy as np

from .. import SGD, Momentum, NormalizedSGD, constant, expected_risk, power_law_problem, simulate
from ..verify.bands import z_band
from . import register

# 5 standard errors: the max over ~10 recorded steps of |z| exceeds 5 with probability ~1e-5
# under the null; seeds are fixed, so a failure is a real fault.
_K = 5.0


@register("core.mc_vs_exact")
def mc_vs_exact(quick: bool):
    p = power_law_problem(64 if quick else 256, capacity=2.0, source=0.5, noise=0.5)
    steps = 200 if quick else 2000
    runs = 200 if quick else 2000
    rec = np.unique(np.geomspace(1, 2 * steps, 12).astype(int))
    out = []
    for label, opt, lr in [
        ("sgd", SGD(), 0.4),
        ("momentum", Momentum(0.5), 0.2),
        ("nsgd_expected", NormalizedSGD("expected"), 0.1),
        ("nsgd_variance", NormalizedSGD("variance"), 0.1),
    ]:
        ramp = constant(lr, 2, steps) + constant(lr, 16, steps)
        exact = expected_risk(p, ramp, opt, record_steps=rec)
        mc = simulate(p, ramp, opt, num_runs=runs, seed=7, record_steps=rec)
        out.append(z_band(
            f"core.mc_vs_exact.{label}", mc, exact, k=_K, expected="pass",
            reason=f"MC mean of {runs} runs vs exact recursion, batch ramp 2->16, max |z| over {rec.size} steps",
        ))
    # Negative control: the same Monte Carlo against the recursion for a *different* batch
    # ramp (2->32): the theory says the curves differ, so the z-band must be violated.
    ramp = constant(0.4, 2, steps) + constant(0.4, 16, steps)
    wrong = constant(0.4, 2, steps) + constant(0.4, 64, steps)
    mc = simulate(p, ramp, SGD(), num_runs=runs, seed=7, record_steps=rec)
    out.append(z_band(
        "core.mc_vs_exact.negative_control", mc, expected_risk(p, wrong, SGD(), record_steps=rec), k=_K,
        expected="fail", reason="MC of ramp 2->16 against the recursion of ramp 2->64 (not the same process)",
    ))
    return out
