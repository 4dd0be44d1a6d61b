"""Optimal batch schedules: closed form vs numerical optima, exponents, rounding, GD through the recursion."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import minimize

import batchramp_theory as bt
from batchramp_theory import fsl
from batchramp_theory.checks.fsl import EXPONENT_BAND, optimal_scaling
from batchramp_theory.fsl.optimal import budget_profile


def _noise_integral(pb, opt):
    """Adaptive quadrature of int_0^T K(T-t)/b*(t) dt and int_0^T b* dt, split at the clip points.

    The kernel is written from the theory, not read from the problem: K(u) = (1 + u)^-(2 - 1/beta)
    (arXiv 2509.19189, Theorem 4.2; docs/fsl.md), tau_K = 1; b* leaves b_max where
    c (1 + u)^-(1 - 1/(2 beta)) = b_max.
    """
    T, beta = opt.horizon, pb.capacity
    p, h = 2.0 - 1.0 / beta, 1.0 - 1.0 / (2.0 * beta)
    u_hi = (opt.c / pb.b_max) ** (1 / h) - 1 if np.isfinite(pb.b_max) else 0.0
    pts = np.unique(np.clip([0.0, opt.growth_start, T - max(u_hi, 0.0), T], 0.0, T))
    k = lambda t: (1 + (T - t)) ** -p  # noqa: E731
    noise = sum(quad(lambda t: k(t) / opt.batch(t), a, b, limit=500, epsabs=0, epsrel=1e-12)[0] for a, b in zip(pts[:-1], pts[1:]))
    spent = sum(quad(lambda t: opt.batch(t), a, b, limit=500, epsabs=0, epsrel=1e-12)[0] for a, b in zip(pts[:-1], pts[1:]))
    return noise, spent


# c_signal, c_noise, tau_signal away from 1 so that each constant has to enter where the FSL puts it:
# L = c1 (1 + T/tau_e)^-s + c3 eta sigma^2 int K/b (docs/fsl.md, "Optimal batch schedules under a data budget").
C1, C3, TAU_E = 1.3, 0.8, 2.0


@pytest.mark.parametrize("s,beta,bmax", [(0.8, 2.0, np.inf), (0.3, 2.0, np.inf), (0.3, 3.0, 40.0)])
def test_closed_form_meets_budget_and_loss(s, beta, bmax):
    pb = fsl.batch_problem(source=s, capacity=beta, budget=1e5, noise=0.7, lr=0.5, b_min=2.0, b_max=bmax,
                           c_signal=C1, c_noise=C3, tau_signal=TAU_E)
    opt = fsl.optimal_batch_schedule(pb)
    noise, spent = _noise_integral(pb, opt)
    # quad at epsrel 1e-12 on pieces where the integrand is smooth: 1e-8 leaves margin for the
    # bisection of c (1e-13 in log c) and the clip points.
    assert spent == pytest.approx(0.5 * 1e5, rel=1e-8)  # int b dt = eta D
    assert opt.noise == pytest.approx(C3 * 0.5 * 0.7**2 * noise, rel=1e-8)
    assert opt.signal == pytest.approx(C1 * (1 + opt.horizon / TAU_E) ** -s, rel=1e-12)
    assert opt.loss == pytest.approx(C1 * (1 + opt.horizon / TAU_E) ** -s + C3 * 0.5 * 0.7**2 * noise, rel=1e-8)
    assert np.all(np.diff(opt.batch(np.linspace(0, opt.horizon, 100))) >= 0)  # b* never decreases
    assert pb.b_min <= opt.b_start <= opt.b_end <= bmax
    # b*(t) has the closed form's exponent where it is not clipped: b(T - u) ~ (1 + u)^-(1 - 1/(2 beta)).
    u = np.geomspace(0.1, opt.horizon, 200)
    b = opt.batch(opt.horizon - u)
    free = (b > pb.b_min * (1 + 1e-9)) & (b < bmax * (1 - 1e-9))
    assert free.sum() >= 20
    # 1e-9: u is recovered from T - (T - u), which loses ~eps T / u (T ~ 2e4, u >= 0.1: ~1e-11).
    np.testing.assert_allclose(b[free] * (1 + u[free]) ** (1 - 1 / (2 * beta)), opt.c, rtol=1e-9)


def test_closed_form_beats_numerical_profiles_at_fixed_horizon():
    """For fixed T the clipped sqrt(K) profile is the KKT optimum: a numerical search over 30 free cells cannot beat it."""
    pb = fsl.batch_problem(source=0.3, capacity=2.0, budget=3e3, noise=1.0, lr=1.0, b_min=1.0)
    T = 800.0
    prof = budget_profile(pb, T)
    closed = pb.lr * pb.noise**2 * prof.noise
    edges = np.sort(T - np.concatenate([[0.0], np.geomspace(0.05, T, 30)]))  # 30 cells refining toward t = T, where K lives
    p, tk = 2.0 - 1.0 / pb.capacity, 1.0  # K(u) = (1 + u/tau_K)^-(2 - 1/beta), tau_K = 1 (docs/fsl.md)
    # Exact integral of K over each cell (u = T - t): tk ((1 + u_a/tk)^(1-p) - (1 + u_b/tk)^(1-p)) / (p - 1).
    kint = np.array([tk * ((1 + (T - b) / tk) ** (1 - p) - (1 + (T - a) / tk) ** (1 - p)) / (p - 1) for a, b in zip(edges[:-1], edges[1:])])
    dt = np.diff(edges)
    extra = pb.lr * pb.budget - pb.b_min * T  # budget above the floor, shared by a softmax: constraints hold exactly

    def batches(z):
        w = np.exp(z - z.max())
        return pb.b_min + extra * (w / w.sum()) / dt

    def noise(b):
        return pb.lr * pb.noise**2 * np.sum(kint / b)

    res = minimize(lambda z: noise(batches(z)), np.zeros(30), method="BFGS", options={"gtol": 1e-12, "maxiter": 5000})
    best = noise(batches(res.x))
    assert np.sum(batches(res.x) * dt) == pytest.approx(pb.lr * pb.budget, rel=1e-12)
    assert closed <= best * (1 + 1e-9)
    assert closed >= best * (1 - 0.05)  # 30 cells get within a few percent of the continuum optimum
    assert closed < noise(np.full(30, pb.lr * pb.budget / T))  # and the constant batch is worse


def test_optimal_horizon_is_a_minimum():
    pb = fsl.batch_problem(source=0.5, capacity=3.0, budget=1e7)
    opt = fsl.optimal_batch_schedule(pb)
    for f in (0.9, 0.99, 1.01, 1.1):
        T = opt.horizon * f
        prof = budget_profile(pb, T)
        loss = pb.c_signal * (1 + T) ** -pb.source + pb.lr * pb.noise**2 * prof.noise
        assert loss >= opt.loss * (1 - 1e-10)


def test_two_stage_optimum_vs_brute_force():
    for s, beta in [(0.3, 2.0), (0.8, 2.0)]:
        pb = fsl.batch_problem(source=s, capacity=beta, budget=1e6)
        ts = fsl.optimal_two_stage(pb, 1.0, 8.0)
        grid = np.concatenate([np.linspace(0, 1e6, 20001), 1e6 - np.geomspace(1, 1e6, 2001)])
        brute = fsl.two_stage_loss(pb, 1.0, 8.0, np.clip(grid, 0, 1e6)).min()
        assert ts.loss <= brute * (1 + 1e-9)
        assert ts.loss <= min(ts.loss_small, ts.loss_large)
    assert fsl.optimal_two_stage(fsl.batch_problem(source=0.8, capacity=2.0, budget=1e8), 1.0, 8.0).switch_fraction == 0.0
    auto = fsl.optimal_two_stage(fsl.batch_problem(source=0.3, capacity=3.0, budget=1e8), 1.0)
    const = fsl.best_constant_batch(fsl.batch_problem(source=0.3, capacity=3.0, budget=1e8))
    assert auto.batch2 > const.batch and auto.loss < const.loss


@pytest.mark.parametrize("s,beta", [(0.3, 2.0), (0.8, 2.0)])
def test_scaling_exponents(s, beta):
    r = optimal_scaling(s, beta)
    slope = lambda y: np.polyfit(np.log(r["budget"]), np.log(y), 1)[0]  # noqa: E731
    a = 1 - 1 / beta
    if s < a:
        assert abs(slope(r["growth_fraction"]) + (a - s) / (2 - 1 / beta)) <= EXPONENT_BAND
        assert abs(slope(r["loss"]) + s) <= EXPONENT_BAND
        assert abs(slope(r["remaining"]) - (1 + s) / (2 - 1 / beta)) <= EXPONENT_BAND
    else:
        assert np.all(r["growth_fraction"] == 1.0) and np.all(r["switch_fraction"] == 0.0)
        assert abs(slope(r["horizon"]) - beta / (1 + s * beta)) <= EXPONENT_BAND
        assert abs(slope(r["loss"]) + s * beta / (1 + s * beta)) <= EXPONENT_BAND


def test_round_batches():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 30.0, 97)
    b = fsl.round_batches(x, 2000, b_min=2)
    assert b.sum() == 2000 and b.min() >= 2 and b.dtype == np.int64
    target = 2 + np.maximum(x - 2, 0) * (2000 - 2 * 97) / np.maximum(x - 2, 0).sum()
    assert np.max(np.abs(b - target)) < 1.0
    with pytest.raises(ValueError, match="budget"):
        fsl.round_batches(x, 100, b_min=2)
    with pytest.raises(ValueError, match="batches"):
        fsl.round_batches([1.0, -1.0], 10)


def test_to_schedule_spends_the_budget():
    opt = fsl.optimal_batch_schedule(fsl.batch_problem(source=0.3, capacity=2.0, budget=5000, lr=0.5))
    sched = opt.to_schedule()
    assert sched.samples == 5000 and sched.steps == round(opt.steps)
    assert np.all(np.diff(sched.batch) >= 0)


def test_numerical_optimum_through_exact_recursion():
    p = bt.power_law_problem(20, 2.0, 0.8, noise=1.0)
    num = fsl.numerical_optimal_batch(p, lr=0.5, budget=600, steps=[40, 60], iterations=60, learning_rate=0.1)
    sc = num.schedule
    assert sc.samples == 600 and sc.steps == num.steps and sc.batch.dtype == np.int64
    assert num.risk == pytest.approx(float(bt.expected_risk(p, sc)[-1]), rel=1e-12)
    assert num.history[-1] < num.history[0]
    const = bt.expected_risk(p, bt.constant(0.5, 600 // num.steps, num.steps))[-1]
    assert num.risk < const  # the descent found a better schedule than the constant batch it started from
    with pytest.raises(ValueError, match="steps"):
        fsl.numerical_optimal_batch(p, lr=0.5, budget=100, steps=[200])


def test_bad_input():
    with pytest.raises(ValueError, match="budget"):
        fsl.batch_problem(source=0.5, capacity=2.0, budget=0.5, b_min=1.0)
    with pytest.raises(ValueError, match="b_max"):
        fsl.batch_problem(source=0.5, capacity=2.0, budget=10, b_min=4.0, b_max=2.0)
    with pytest.raises(ValueError, match="capacity"):
        fsl.batch_problem(source=0.5, capacity=0.9, budget=10)
    pb = fsl.batch_problem(source=0.5, capacity=2.0, budget=10)
    with pytest.raises(ValueError, match="switch_samples"):
        fsl.two_stage_loss(pb, 1.0, 2.0, 11.0)
    with pytest.raises(ValueError, match="batch1"):
        fsl.optimal_two_stage(pb, 0.0, 2.0)
