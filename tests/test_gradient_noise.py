"""Exact gradient-noise statistics (gradient_noise.py): closed forms, identities, Monte Carlo."""

import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory.checks.critical_batch import explicit_sgd_then_two_batches, per_sample_gradients

RTOL = 1e-10  # exact identities in float64


def _problem(d=12, noise=0.5):
    return bt.power_law_problem(d, capacity=2.0, source=0.5, noise=noise)


def test_closed_forms_match_dense_covariance():
    p = _problem()
    rng = np.random.default_rng(0)
    w = rng.standard_normal(p.dim)
    G, S = bt.gradient_covariance(p, w)
    H = np.diag(p.eigenvalues)
    st = bt.noise_stats(p, (w - p.target) ** 2)
    np.testing.assert_allclose(st.grad_norm2, G @ G, rtol=RTOL)
    np.testing.assert_allclose(st.trace_sigma, np.trace(S), rtol=RTOL)
    np.testing.assert_allclose(st.grad_hess_grad, G @ H @ G, rtol=RTOL)
    np.testing.assert_allclose(st.trace_h_sigma, np.trace(H @ S), rtol=RTOL)
    np.testing.assert_allclose(st.risk, bt.excess_risk(p, w), rtol=RTOL)
    # the closed forms (docs/critical_batch.md, "Gradient-noise statistics (exact)"): B_noise = 1 + (r'Hr + s^2) tr H^2 / r'H^3 r, B_simple = 1 + (r'Hr + s^2) tr H / r'H^2 r
    r, lam = w - p.target, p.eigenvalues
    level = r @ (lam * r) + 0.25
    np.testing.assert_allclose(st.b_noise, 1 + level * np.sum(lam**2) / (r @ (lam**3 * r)), rtol=RTOL)
    np.testing.assert_allclose(st.b_simple, 1 + level * np.sum(lam) / (r @ (lam**2 * r)), rtol=RTOL)


def test_dense_covariance_against_per_sample_monte_carlo():
    p = bt.power_law_problem(5, capacity=1.5, source=0.5, noise=0.5)
    w = np.linspace(-0.5, 0.5, 5)
    G, S = bt.gradient_covariance(p, w)
    g = per_sample_gradients(np.random.default_rng(3), p.eigenvalues, w - p.target, 0.5, (60_000,))
    cov = np.cov(g, rowvar=False)
    prods = ((g - G)[:, :, None] * (g - G)[:, None, :]).reshape(len(g), -1)
    se = prods.std(0, ddof=1) / np.sqrt(len(g))
    # 5 standard errors over 25 entries (fixed seed); the sample covariance differs from the
    # known-mean estimate by O(1/n), far below one standard error.
    assert np.max(np.abs(cov.ravel() - S.ravel()) / se) < 5
    assert np.max(np.abs(g.mean(0) - G) / (g.std(0, ddof=1) / np.sqrt(len(g)))) < 5


@pytest.mark.parametrize("opt", [bt.SGD(), bt.Momentum(0.5), bt.NormalizedSGD("expected"), bt.NormalizedSGD("variance")])
def test_noise_along_matches_second_moments_and_expected_risk(opt):
    p = _problem(32)
    scheds = [bt.constant(0.2, 4, 60) + bt.constant(0.2, 16, 30), bt.constant(0.1, 2, 50)]
    st = bt.noise_along(p, scheds, opt)
    np.testing.assert_allclose(st.risk, bt.expected_risk(p, scheds, opt), rtol=RTOL)
    for i, s in enumerate(scheds):
        ref = bt.noise_stats(p, bt.second_moments(p, s, opt))
        for a, b in zip(st, ref):
            np.testing.assert_allclose(a[i, : s.steps + 1], b, rtol=RTOL)


def test_one_step_identity_and_optimal_lr():
    """E[E_{k+1}] - E[E_k] = -(eta E|G|^2 - 1/2 eta^2 (E G'HG + E tr(H Sigma)/B)), exactly."""
    p = _problem(32)
    s = bt.constant(0.3, 4, 40) + bt.constant(0.15, 8, 40)
    st = bt.noise_along(p, s)
    before = bt.NoiseStats(*(f[:-1] for f in st))  # statistics at steps 0..K-1
    np.testing.assert_allclose(st.risk[:-1] - st.risk[1:], before.expected_decrease(s.lr, s.batch), rtol=1e-9, atol=1e-15)
    # eta_opt = eta_max / (1 + B_noise / B) maximises the exact one-step decrease
    m = bt.second_moments(p, s, record_steps=[30])[0]
    st_k = bt.noise_stats(p, m)
    lam, batch = p.eigenvalues, 8

    def risk_after(eta):  # one exact SGD moment step from m
        m2 = ((1 - eta * lam) ** 2 + eta**2 * lam**2 / batch) * m + eta**2 / batch * lam * (lam @ m + 0.25)
        return 0.5 * lam @ m2

    eta = float(st_k.optimal_lr(batch))
    assert risk_after(eta) < min(risk_after(eta * 1.01), risk_after(eta * 0.99))
    np.testing.assert_allclose(st_k.risk - risk_after(eta), st_k.expected_decrease(eta, batch), rtol=1e-10)


def test_noise_scale_grows_along_training():
    p = bt.power_law_problem(100, 2.0, 0.5, noise=0.5)
    st = bt.noise_along(p, bt.constant(0.3, 8, 400), record_steps=[0, 10, 100, 400])
    assert np.all(np.diff(st.b_noise) > 0) and np.all(np.diff(st.b_simple) > 0)
    assert np.all(st.b_noise >= 1) and np.all(st.b_simple >= 1)


def test_ratio_of_expectations_against_explicit_runs():
    """Two-batch estimates averaged over independent SGD iterates estimate E|G|^2 and E tr Sigma."""
    p = _problem(8)
    gs, gb = explicit_sgd_then_two_batches(1, p.eigenvalues, p.target, 0.5, 0.4, steps=20, runs=3000, batch=2, b_small=1, b_big=8)
    g2, trs = bt.two_batch_estimates(gs, gb, 1, 8)
    st = bt.noise_along(p, bt.constant(0.4, 2, 20), record_steps=[20])
    for est, exact in ((g2, st.grad_norm2[0]), (trs, st.trace_sigma[0])):
        z = abs(est.mean() - exact) / (est.std(ddof=1) / np.sqrt(est.size))
        assert z < 5  # 5 standard errors, fixed seed


def test_two_batch_estimates_are_exact_on_noiseless_means():
    # If |g_B|^2 equals its expectation |G|^2 + tr(Sigma)/B exactly, the estimators invert it.
    G2, trS = 0.7, 3.0
    gs = np.array([np.sqrt(G2 + trS / 2), 0.0])
    gb = np.array([np.sqrt(G2 + trS / 32), 0.0])
    a, b = bt.two_batch_estimates(gs, gb, 2, 32)
    np.testing.assert_allclose([a, b], [G2, trS], rtol=1e-12)


def test_divergence_inf_and_errors():
    p = _problem(16)
    lim = bt.stability_limit(p, 1)
    with pytest.warns(bt.DivergenceWarning):
        st = bt.noise_along(p, bt.constant(3 * lim, 1, 200), on_divergence="inf")
    assert np.isinf(st.risk[-1]) and np.isnan(st.b_noise[-1]) and np.isfinite(st.b_noise[0])
    with pytest.raises(bt.DivergenceError):
        bt.noise_along(p, bt.constant(3 * lim, 1, 200))
    with pytest.raises(ValueError, match="moments"):
        bt.noise_stats(p, np.ones(3))
    with pytest.raises(ValueError, match="moments"):
        bt.noise_stats(p, -np.ones(16))
    with pytest.raises(ValueError, match="w must"):
        bt.gradient_covariance(p, np.ones(3))
    with pytest.raises(ValueError, match="batch_big"):
        bt.two_batch_estimates(np.ones(2), np.ones(2), 4, 4)
    with pytest.raises(ValueError, match="no exact recursion"):
        bt.noise_along(p, bt.constant(0.1, 1, 5), bt.Adam())
