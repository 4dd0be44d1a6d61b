"""The FSL-optimal learning-rate schedule at a fixed batch (arXiv 2602.06797;
docs/fsl.md, "Optimal learning-rate schedule at a fixed batch"): the per-step shape, its exponents and regimes, the input
checks, and the KKT re-derivation of the exponent, the peak and the hard-case decay window from the
power-law FSL (numerically, with the pure power kernel)."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from batchramp_theory.verify.predictions import (
    fsl_optimal_lr_decay_fraction,
    fsl_optimal_lr_exponent,
    fsl_optimal_lr_peak_exponent,
    fsl_optimal_lr_schedule,
)

EASY = (2.0, 1.0)   # (capacity beta, source s): s >= 1 - 1/beta
HARD = (2.0, 0.3)


# ----------------------------------------------------------------------------- shape and exponents


@pytest.mark.parametrize("beta", [1.2, 2.0, 3.5])
def test_exponent_is_two_beta_minus_one(beta):
    assert fsl_optimal_lr_exponent(beta) == pytest.approx(2 * beta - 1)


def test_easy_schedule_is_the_power_decay_at_step_midpoints():
    n, peak = 200, 0.3
    lr = fsl_optimal_lr_schedule(*EASY, n, peak)
    assert lr.shape == (n,) and lr.dtype == np.float64
    z = np.arange(n) + 0.5
    np.testing.assert_allclose(lr, peak * (1 - z / n) ** 3.0, rtol=1e-12)
    # log-log slope against the remaining fraction is exactly 2 beta - 1
    slope = np.polyfit(np.log(1 - z / n), np.log(lr), 1)[0]
    assert slope == pytest.approx(3.0, abs=1e-9)


def test_endpoints_and_monotonicity():
    for task in (EASY, HARD):
        lr = fsl_optimal_lr_schedule(*task, 1000, 1.0)
        assert np.all(np.diff(lr) <= 0) and np.all(lr > 0)
        assert lr[0] <= 1.0 and lr[0] >= (1 - 0.5 / 1000) ** 3
        assert lr[-1] < 1e-6  # decays to (nearly) zero
    easy = fsl_optimal_lr_schedule(*EASY, 1000, 1.0)
    assert easy[-1] == pytest.approx((0.5 / 1000) ** 3)
    one = fsl_optimal_lr_schedule(*EASY, 1, 2.0)
    assert one.shape == (1,) and one[0] == pytest.approx(2.0 * 0.5**3)


def test_hard_schedule_is_stable_then_decays_over_the_predicted_window():
    n = 10_000
    f = fsl_optimal_lr_decay_fraction(*HARD, n)
    assert 0 < f < 1
    lr = fsl_optimal_lr_schedule(*HARD, n, 0.5)
    stable = np.arange(n) + 0.5 <= n * (1 - f)
    assert np.all(lr[stable] == 0.5)
    assert stable.sum() == pytest.approx(n * (1 - f), abs=1)
    z = np.arange(n)[~stable] + 0.5
    np.testing.assert_allclose(lr[~stable], 0.5 * ((n - z) / (f * n)) ** 3.0, rtol=1e-12)
    # an explicit window overrides the prediction
    lr2 = fsl_optimal_lr_schedule(*HARD, 100, 1.0, decay_fraction=0.1)
    assert np.all(lr2[:90] == 1.0) and np.all(lr2[90:] < 1.0)


def test_decay_fraction_vanishes_only_for_hard_tasks():
    x = -(1 - 1 / 2.0 - 0.3) / (2 - 1 / 2.0)
    ns = np.array([1e4, 1e6, 1e8])
    fr = np.array([fsl_optimal_lr_decay_fraction(*HARD, n) for n in ns])
    assert np.all(np.diff(fr) < 0)
    assert np.polyfit(np.log(ns), np.log(fr), 1)[0] == pytest.approx(x)
    assert fsl_optimal_lr_decay_fraction(*HARD, 1e6, scale=0.5) == pytest.approx(0.5 * fr[1])
    assert fsl_optimal_lr_decay_fraction(*EASY, 1e8) == 1.0
    assert fsl_optimal_lr_decay_fraction(*HARD, 2.0, scale=10.0) == 1.0  # capped at the whole run


def test_regime_switch_at_the_boundary():
    beta, n = 2.0, 4096
    s_b = 1 - 1 / beta
    easy = fsl_optimal_lr_schedule(beta, s_b, n, 1.0)                     # boundary counts as easy
    hard = fsl_optimal_lr_schedule(beta, s_b - 1e-9, n, 1.0)
    harder = fsl_optimal_lr_schedule(beta, 0.1, n, 1.0)
    np.testing.assert_allclose(hard, easy, rtol=1e-6)                    # continuous: the fraction -> 1
    assert np.all(harder >= easy) and harder[n // 2] == 1.0 > easy[n // 2]
    # the override holds a hard task to the easy shape; the hard window formula on an easy task grows
    # with N (positive exponent) and is capped at the whole run, so it gives the easy shape back
    np.testing.assert_allclose(fsl_optimal_lr_schedule(*HARD, n, 1.0, regime="easy"), easy)
    assert fsl_optimal_lr_decay_fraction(*EASY, n, regime="hard") == 1.0
    np.testing.assert_allclose(fsl_optimal_lr_schedule(*EASY, n, 1.0, regime="hard"), easy)
    assert fsl_optimal_lr_peak_exponent(*EASY) == pytest.approx(-1 / 3)
    assert fsl_optimal_lr_peak_exponent(beta, s_b) == pytest.approx(0.0, abs=1e-12)
    assert fsl_optimal_lr_peak_exponent(*HARD) == 0.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fsl_optimal_lr_schedule(1.0, 0.5, 10, 1.0), "capacity"),
        (lambda: fsl_optimal_lr_schedule(0.5, 0.5, 10, 1.0), "capacity"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.0, 10, 1.0), "source"),
        (lambda: fsl_optimal_lr_schedule(2.0, -1.0, 10, 1.0), "source"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.5, 0, 1.0), "steps"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.5, 10.5, 1.0), "steps"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.5, True, 1.0), "steps"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.5, 10, 0.0), "peak_lr"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.5, 10, float("nan")), "peak_lr"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.5, 10, 1.0, regime="medium"), "regime"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.3, 10, 1.0, decay_fraction=0.0), "decay_fraction"),
        (lambda: fsl_optimal_lr_schedule(2.0, 0.3, 10, 1.0, decay_fraction=1.5), "decay_fraction"),
        (lambda: fsl_optimal_lr_exponent(1.0), "capacity"),
        (lambda: fsl_optimal_lr_decay_fraction(2.0, 0.3, 0.5), "steps"),
        (lambda: fsl_optimal_lr_decay_fraction(2.0, 0.3, 100, scale=0.0), "scale"),
    ],
)
def test_bad_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- KKT re-derivation


def _h(eta, beta, n, ys, kink=None):
    """``h(y) = 2 K(T_N - T_y) eta(y) + int_0^y K'(T_N - T_z) eta(z)^2 dz``, ``K(r) = r^-(2 - 1/beta)``.

    The loss's first variation is ``-s T_N^-(s+1) + sigma^2 h``: constant ``h`` = interior optimum."""
    a = 2 - 1 / beta
    pts = lambda y: [kink] if kink is not None and kink < y else None
    t_n = quad(eta, 0, n, points=pts(n), limit=200)[0]
    rem = lambda y: t_n - quad(eta, 0, y, points=pts(y), limit=200)[0]
    out = []
    for y in ys:
        integral = quad(lambda z: -a * rem(z) ** (-a - 1) * eta(z) ** 2, 0, y, points=pts(y), limit=200)[0]
        out.append(2 * rem(y) ** -a * eta(y) + integral)
    return np.array(out)


def test_power_decay_with_exponent_two_beta_minus_one_is_stationary():
    beta, ys = 2.0, np.linspace(0.0, 0.9, 6)
    p = fsl_optimal_lr_exponent(beta)
    h = _h(lambda z: (1 - z) ** p, beta, 1.0, ys)
    np.testing.assert_allclose(h / h[0], 1.0, atol=1e-6)
    for wrong in (p - 0.5, p + 0.5):                      # negative controls: not stationary
        hw = _h(lambda z, q=wrong: (1 - z) ** q, beta, 1.0, ys)
        assert np.max(np.abs(hw / hw[0] - 1)) > 0.2


def test_hard_window_is_stationary_and_the_stable_phase_is_at_the_bound():
    beta, length = 2.0, 0.2
    p = fsl_optimal_lr_exponent(beta)
    eta = lambda z: min(1.0, (1 - z) / length) ** p
    window = _h(eta, beta, 1.0, np.linspace(0.82, 0.95, 4), kink=1 - length)
    stable = _h(eta, beta, 1.0, np.linspace(0.0, 0.78, 5), kink=1 - length)
    np.testing.assert_allclose(window / window[0], 1.0, atol=1e-6)
    assert np.all(stable < window[0]) and np.all(np.diff(stable) > 0)   # KKT at eta = eta_max


def test_peak_and_window_scalings_follow_from_the_kkt_conditions():
    beta, sigma2 = 2.0, 1.0
    a = 2 - 1 / beta
    # easy: h = 2 A T_N^-a = s T_N^-(s+1) / sigma^2 with T_N = A N / (2 beta)
    s = 1.0
    peak = lambda n: brentq(lambda la: math.log(2 * math.exp(la) * sigma2) - a * math.log(math.exp(la) * n / (2 * beta))
                            - math.log(s) + (s + 1) * math.log(math.exp(la) * n / (2 * beta)), -60, 60)
    ns = np.array([1e4, 1e6, 1e8])
    slope = np.polyfit(np.log(ns), [peak(n) for n in ns], 1)[0]
    assert slope == pytest.approx(fsl_optimal_lr_peak_exponent(beta, s), abs=1e-9)
    # hard: eta_max (K(eta_max L / (2 beta)) + K(T_N)) = s T_N^-(s+1) / sigma^2 at the junction
    # small noise keeps the window a small fraction already at these N (the asymptotic regime)
    s, eta_max, sigma2 = 0.3, 0.5, 1e-3
    def window(n):
        t_n = lambda L: eta_max * (n - L) + eta_max * L / (2 * beta)
        g = lambda L: eta_max * ((eta_max * L / (2 * beta)) ** -a + t_n(L) ** -a) - s * t_n(L) ** -(s + 1) / sigma2
        return brentq(g, 1e-9, n, xtol=1e-12 * n, rtol=1e-14)
    big = np.array([1e10, 1e12, 1e14])
    frac = np.array([window(n) / n for n in big])
    assert np.polyfit(np.log(big), np.log(frac), 1)[0] == pytest.approx(
        math.log(fsl_optimal_lr_decay_fraction(beta, s, 1e14) / fsl_optimal_lr_decay_fraction(beta, s, 1e10))
        / math.log(1e4), abs=2e-3)
    scale = (2 * beta / eta_max) * (sigma2 * eta_max ** (s + 2) / s) ** (1 / a)
    assert frac[-1] == pytest.approx(fsl_optimal_lr_decay_fraction(beta, s, 1e14, scale=scale), rel=2e-2)
