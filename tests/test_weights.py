"""Mode weights (multiplicities) and the single-pass recursion.

A node of weight ``w`` must behave exactly like ``w`` copies of the same mode: every quantity
(risk at all steps for every optimizer with a recursion, stability limits, trace, initial risk)
is checked against the problem with the modes duplicated, at 1e-10 relative (an exact identity
in float64, up to summation order).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory.recursions import expected_grad_norm2

LAM = np.array([1.0, 0.4, 0.1, 0.03])
THETA = np.array([0.5, -1.0, 2.0, 1.5])
W = np.array([1, 3, 2, 5])
WEIGHTED = bt.Problem(LAM, THETA, noise=0.3, weights=W.astype(float))
DUPLICATED = bt.Problem(np.repeat(LAM, W), np.repeat(THETA, W), noise=0.3)
SCHED = bt.constant(0.3, 2, 60) + bt.cosine(0.3, 8, 60)
OPTS = [bt.SGD(), bt.Momentum(0.6), bt.NormalizedSGD("expected"), bt.NormalizedSGD("variance")]


def test_weighted_problem_basics():
    assert WEIGHTED.is_weighted and not DUPLICATED.is_weighted
    np.testing.assert_allclose(WEIGHTED.trace, DUPLICATED.trace, rtol=1e-12)
    np.testing.assert_allclose(WEIGHTED.initial_risk, DUPLICATED.initial_risk, rtol=1e-12)
    w_iter = np.array([0.1, 0.2, -0.3, 0.4])
    np.testing.assert_allclose(bt.excess_risk(WEIGHTED, w_iter), bt.excess_risk(DUPLICATED, np.repeat(w_iter, W)), rtol=1e-12)
    np.testing.assert_array_equal(DUPLICATED.mode_weights, np.ones(DUPLICATED.dim))
    leaves = jax.tree_util.tree_leaves(WEIGHTED)
    assert len(leaves) == 4 and len(jax.tree_util.tree_leaves(DUPLICATED)) == 3


@pytest.mark.parametrize("opt", OPTS, ids=str)
def test_weights_equal_duplicated_modes(opt):
    lr_scale = 0.1 if isinstance(opt, bt.NormalizedSGD) else 1.0
    s = SCHED.scale_lr(lr_scale)
    a = bt.expected_risk(WEIGHTED, s, opt)
    b = bt.expected_risk(DUPLICATED, s, opt)
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_weights_in_stability_and_grad_norm():
    for opt in (bt.SGD(), bt.Momentum(0.5), bt.NormalizedSGD("variance")):
        np.testing.assert_allclose(bt.stability_limit(WEIGHTED, 4, opt), bt.stability_limit(DUPLICATED, 4, opt), rtol=1e-8)
    lim = bt.stability_limit(WEIGHTED, 4)
    assert bt.is_stable(WEIGHTED, 0.99 * lim, 4) and not bt.is_stable(WEIGHTED, 1.01 * lim, 4)
    m = THETA**2
    np.testing.assert_allclose(
        expected_grad_norm2(m, 4.0, LAM, 0.3, weights=W.astype(float)),
        expected_grad_norm2(np.repeat(m, W), 4.0, np.repeat(LAM, W), 0.3), rtol=1e-12)


def test_weighted_grad_and_second_moments():
    f = bt.make_risk_fn(WEIGHTED)
    g = bt.make_risk_fn(DUPLICATED)
    lr = jnp.full(50, 0.3)
    ga = jax.grad(lambda x: f(x, jnp.full(50, 4.0))[-1])(lr)
    gb = jax.grad(lambda x: g(x, jnp.full(50, 4.0))[-1])(lr)
    np.testing.assert_allclose(ga, gb, rtol=1e-10)
    m = bt.second_moments(WEIGHTED, SCHED)
    assert m.shape == (SCHED.steps + 1, LAM.size)
    # A node of weight w carries the second moment of each of its w copies (all copies are equal).
    md = bt.second_moments(DUPLICATED, SCHED)
    np.testing.assert_allclose(np.repeat(m, W, axis=1), md, rtol=1e-10)
    # and the weighted read-out of the moments is the risk: sum_j w_j lambda_j m_j / 2.
    np.testing.assert_allclose(0.5 * m @ (W * LAM), bt.expected_risk(DUPLICATED, SCHED), rtol=1e-10)


def test_recursion_matches_dense_covariance_propagation():
    # S' = S - eta (H S + S H) + eta^2 (1 + 1/B) H S H + (eta^2 / B) (tr(H S) + sigma^2) H,
    # E = tr(H S) / 2 (Gaussian fourth moment; docs/recursions.md, "SGD"). Full d x d.
    p = bt.power_law_problem(6, 1.5, 0.4, noise=0.7)
    s = bt.constant(0.5, 1, 20) + bt.constant(0.4, 5, 30)
    h = np.diag(p.eigenvalues)
    cov = np.outer(p.target, p.target)
    dense = [0.5 * np.trace(h @ cov)]
    for eta, b in zip(s.lr, s.batch):
        cov = (cov - eta * (h @ cov + cov @ h) + eta**2 * (1 + 1 / b) * h @ cov @ h
               + (eta**2 / b) * (np.trace(h @ cov) + 0.49) * h)
        dense.append(0.5 * np.trace(h @ cov))
    np.testing.assert_allclose(bt.expected_risk(p, s), dense, rtol=1e-10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weights": [1.0, 2.0]}, "weights has shape"),
        ({"weights": [1.0, 0.0, 1.0]}, "weights must be positive"),
        ({"weights": [1.0, np.nan, 1.0]}, "weights contains NaN"),
        ({"weights": [[1.0, 1.0, 1.0]]}, "weights must have 1 dimension"),
    ],
)
def test_bad_weights(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bt.Problem([1.0, 0.5, 0.2], [1.0, 1.0, 1.0], noise=0.1, **kwargs)


def test_weights_in_fsl_gradient_noise_and_greedy_schedules():
    # Every module that sums over modes must weight the sums: FSL mode sums and Volterra series,
    # exact gradient-noise statistics, McCandlish-greedy learning rates.
    from batchramp_theory.critical_batch import greedy_schedules
    from batchramp_theory.fsl import mode_sum_fsl
    from batchramp_theory.fsl.calculator import volterra_series

    for prop in ("discrete", "continuous"):
        np.testing.assert_allclose(mode_sum_fsl(WEIGHTED, SCHED, propagator=prop).risk(),
                                   mode_sum_fsl(DUPLICATED, SCHED, propagator=prop).risk(), rtol=1e-10)
    np.testing.assert_allclose(volterra_series(WEIGHTED, SCHED, 2), volterra_series(DUPLICATED, SCHED, 2), rtol=1e-10)
    a, b = bt.noise_along(WEIGHTED, SCHED), bt.noise_along(DUPLICATED, SCHED)
    for fa, fb in zip(a, b):
        np.testing.assert_allclose(fa, fb, rtol=1e-10)
    m = THETA**2
    for fa, fb in zip(bt.noise_stats(WEIGHTED, m), bt.noise_stats(DUPLICATED, np.repeat(m, W))):
        np.testing.assert_allclose(fa, fb, rtol=1e-12)
    ga, gb = greedy_schedules(WEIGHTED, [2, 8], 40), greedy_schedules(DUPLICATED, [2, 8], 40)
    for sa, sb in zip(ga, gb):
        np.testing.assert_allclose(sa.lr, sb.lr, rtol=1e-10)
    with pytest.raises(ValueError, match="mode weights"):
        bt.gradient_covariance(WEIGHTED, np.zeros(4))
