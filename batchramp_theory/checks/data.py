"""Real-data checks: Gaussian-equivalent recursion against true SGD on the rows of ``load_digits``.

The problem is the empirical distribution of the rows (``bt.Problem.from_data``; docs/problems.md,
"From data"): its excess risk is exact, and ``bt.simulate(..., sampler="rows")`` runs true SGD
with mini-batches drawn with replacement. The rows are not Gaussian, so the recursion's
prediction is an approximation (Gaussian equivalence); these checks measure it on scikit-learn's
bundled digits (raw pixels in ``[0, 1]``, and a random ReLU feature map of them), for a constant
LR, an LR decay (lr halves twice) and its batch ramp (batch doubles twice, equal samples), and the
decay-vs-ramp equivalence on the data themselves. Bands and the measured values are on
docs/problems.md, "Measured on load_digits".
"""

from __future__ import annotations

import numpy as np

from .. import Problem, constant, expected_risk, load_digits_regression, random_relu_features, simulate
from ..verify.bands import mean_and_se, within
from . import register

# The recursion is held to the rows-SGD mean within a relative Gaussian-equivalence band _GE plus
# 5 standard errors: statistic max_t max(0, |mean_t - exact_t| - _GE exact_t) / se_t <= 5. Measured
# (800 runs, ReLU width 64, constant lr): rows-SGD sits 0.3-2.2% *below* the recursion at every
# step (z down to -4.5: a resolved, systematic error); raw pixels: |error| <= 4.2% with z <= 2.1
# (400 runs, unresolved). _GE = 3% covers the resolved ReLU error with margin; the 5 SE (false
# alarm ~1e-5 over ~12 steps, fixed seeds) cover the rest. A plain 5-SE band (_GE = 0) would fail
# on the ReLU features once the runs pass ~1000: the Gaussian equivalence is not exact.
_K = 5.0
_GE = 0.03
# Decay vs ramp on the rows: Theorem 1 is exact only as lr -> 0; at lr = 0.5/tr H the recursion
# predicts ramp/decay - 1 = 2.0% (pixels) and 0.4% (ReLU); measured on the rows 3.9% +- 1.4% and
# 0.8% +- 0.3% (400 runs). 0.08 is the largest prediction plus ~4 of the larger standard error;
# the (1, 4) ramp control is 17-19% away (recursion and rows agree on it).
_EQUIV_BAND = 0.08


def _problems(quick: bool):
    X, y = load_digits_regression()
    return {
        "pixels": Problem.from_data(X, y),
        "relu": Problem.from_data(random_relu_features(X, 64 if quick else 128, seed=0), y),
    }


def _schedules(p: Problem, quick: bool):
    lr, b, n = 0.5 / p.trace, 8, 300 if quick else 1000
    return {
        "constant": constant(lr, b, 3 * n),
        "decay": constant(lr, b, n) + constant(lr / 2, b, n) + constant(lr / 4, b, n),
        "ramp": constant(lr, b, n) + constant(lr, 2 * b, n // 2) + constant(lr, 4 * b, n // 4),
        # the (1, 4) rule: batch x4 per phase where the decay halves the lr (alpha*beta = 2, not 1/2)
        "ramp_x4": constant(lr, b, n) + constant(lr, 4 * b, n // 4) + constant(lr, 16 * b, n // 16),
    }


def _banded_z(name, samples, exact, *, expected, reason):
    """``max_t max(0, |mean_t - exact_t| - _GE exact_t) / se_t`` held to ``_K``."""
    mean, se = mean_and_se(samples)
    exact = np.asarray(exact)
    stat = float(np.max(np.maximum(0.0, np.abs(mean - exact) - _GE * exact) / se))
    rel = float(np.max(np.abs(mean / exact - 1.0)))
    return within(name, stat, _K, expected=expected, reason=f"{reason}; max |relative error| {rel:.1%}")


def _rec(steps: int) -> np.ndarray:
    return np.unique(np.geomspace(1, steps, 12).astype(int))


@register("data.recursion_vs_rows")
def recursion_vs_rows(quick: bool):
    runs = 200 if quick else 400
    out = []
    for pname, p in _problems(quick).items():
        sch = _schedules(p, quick)
        mcs = {}
        for sname in ("constant", "decay", "ramp"):
            s = sch[sname]
            rec = _rec(s.steps)
            mc = simulate(p, s, num_runs=runs, seed=3, sampler="rows", record_steps=rec)
            mcs[sname] = (mc, rec)
            out.append(_banded_z(
                f"data.recursion_vs_rows.{pname}.{sname}", mc, expected_risk(p, s, record_steps=rec),
                expected="pass",
                reason=f"true SGD on the digits rows ({runs} runs) vs the Gaussian-equivalent recursion: "
                       f"max over {rec.size} steps of (|error| - {_GE:.0%}) / SE (measured band, docs/problems.md)",
            ))
        # Negative control: the ramp's rows-SGD against the recursion of the (1, 4) ramp.
        mc, rec = mcs["ramp"]
        wrong = sch["ramp_x4"]
        idx = np.minimum(rec, wrong.steps)
        out.append(_banded_z(
            f"data.recursion_vs_rows.{pname}.negative_control", mc, expected_risk(p, wrong, record_steps=idx),
            expected="fail", reason="rows-SGD of the (1, 2) ramp vs the recursion of the (1, 4) ramp (another process)",
        ))
    return out


@register("data.equivalence")
def equivalence(quick: bool):
    """LR decay vs its batch ramp at equal samples, measured by true SGD on the rows."""
    runs = 200 if quick else 400
    out = []
    for pname, p in _problems(quick).items():
        sch = _schedules(p, quick)
        final = {}
        for sname in ("decay", "ramp", "ramp_x4"):
            s = sch[sname]
            final[sname] = simulate(p, s, num_runs=runs, seed=5, sampler="rows", record_steps=[s.steps])[:, 0].mean()
        for sname, expected in (("ramp", "pass"), ("ramp_x4", "fail")):
            ratio = final[sname] / final["decay"]
            out.append(within(
                f"data.equivalence.{pname}.{sname}", abs(ratio - 1.0), _EQUIV_BAND, expected=expected,
                reason=f"|final risk {sname}/decay - 1| by rows-SGD ({runs} runs), equal samples; "
                       f"band {_EQUIV_BAND}: finite-lr deviation of Theorem 1 + 4 SE (docs/problems.md)",
            ))
    return out
