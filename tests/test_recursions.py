"""Exact recursions: identities against dense propagation and boundary cases (float64, tight)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import RTOL_EXACT, dense_momentum_risk, dense_sgd_risk, diag_sgd_risk, random_rotation

import batchramp_theory as bt


@pytest.fixture
def problem():
    return bt.power_law_problem(12, capacity=1.7, source=0.6, noise=0.7)


@pytest.fixture
def ramp():
    # variable lr and batch on every step: the recursion must handle per-step values
    rng = np.random.default_rng(0)
    return bt.Schedule(rng.uniform(0.05, 0.6, 120), rng.integers(1, 40, 120))


def _rotated(problem, seed=1):
    # Rotating H and theta* together leaves the process unchanged, and the dense reference
    # never uses the eigenbasis, so it tests the per-mode closure, not a shared code path.
    Q = random_rotation(problem.dim, seed)
    return Q @ np.diag(problem.eigenvalues) @ Q.T, Q @ problem.target


def test_sgd_equals_dense_rotated(problem, ramp):
    H, theta = _rotated(problem)
    dense = dense_sgd_risk(H, theta, problem.noise, ramp.lr, ramp.batch)
    np.testing.assert_allclose(bt.expected_risk(problem, ramp), dense, rtol=RTOL_EXACT)


def test_momentum_equals_dense_rotated(problem, ramp):
    H, theta = _rotated(problem)
    dense = dense_momentum_risk(H, theta, problem.noise, ramp.lr * 0.5, ramp.batch, 0.6)
    got = bt.expected_risk(problem, bt.Schedule(ramp.lr * 0.5, ramp.batch), bt.Momentum(0.6))
    np.testing.assert_allclose(got, dense, rtol=RTOL_EXACT)


@pytest.mark.parametrize("normalizer", ["expected", "variance"])
def test_nsgd_equals_dense_rotated(problem, ramp, normalizer):
    H, theta = _rotated(problem)
    sched = bt.Schedule(ramp.lr * 0.3, ramp.batch)
    dense = dense_sgd_risk(H, theta, problem.noise, sched.lr, sched.batch, normalizer=normalizer)
    np.testing.assert_allclose(bt.expected_risk(problem, sched, bt.NormalizedSGD(normalizer)), dense, rtol=RTOL_EXACT)


def test_momentum_zero_is_sgd(problem, ramp):
    np.testing.assert_allclose(
        bt.expected_risk(problem, ramp, bt.Momentum(0.0)), bt.expected_risk(problem, ramp), rtol=RTOL_EXACT
    )


def test_infinite_batch_is_gradient_descent(problem, ramp):
    # Full-batch GD from w0 = 0: w_j - theta_j = -theta_j prod_k (1 - lr_k lambda_j), exactly.
    # The SGD noise terms scale as 1/B, so B = 1e14 leaves a relative deviation ~1e-14.
    huge = bt.Schedule(ramp.lr, np.full(ramp.steps, 10**14))
    lam, theta = problem.eigenvalues, problem.target
    factors = np.cumprod((1 - np.outer(ramp.lr, lam)) ** 2, axis=0)
    gd = np.concatenate([[problem.initial_risk], 0.5 * factors @ (lam * theta**2)])
    np.testing.assert_allclose(bt.expected_risk(problem, huge), gd, rtol=RTOL_EXACT)


def test_zero_lr_changes_nothing(problem):
    sched = bt.constant(0.0, 7, steps=50)
    for opt in (bt.SGD(), bt.Momentum(0.9), bt.NormalizedSGD("variance"), bt.NormalizedSGD("expected")):
        r = bt.expected_risk(problem, sched, opt)
        np.testing.assert_array_equal(r, np.full(51, r[0]))  # bit-for-bit unchanged
        np.testing.assert_allclose(r[0], problem.initial_risk, rtol=RTOL_EXACT)


def test_noiseless_stable_risk_decreases():
    p = bt.power_law_problem(50, 2.0, 0.5, noise=0.0)
    r = bt.expected_risk(p, bt.constant(0.5, 1, steps=300))
    assert np.all(np.diff(r) < 0)
    # and it is the independent per-mode NumPy recursion with sigma = 0 (tests/helpers.py)
    np.testing.assert_allclose(r, diag_sgd_risk(p.eigenvalues, p.target, 0.0, 0.5, np.ones(300)), rtol=RTOL_EXACT)


def test_stack_equals_single_calls(problem, ramp):
    short = bt.constant(0.3, 4, steps=40)
    both = bt.expected_risk(problem, [ramp, short])
    np.testing.assert_allclose(both[0], bt.expected_risk(problem, ramp), rtol=RTOL_EXACT)
    np.testing.assert_allclose(both[1, :41], bt.expected_risk(problem, short), rtol=RTOL_EXACT)
    # padding with lr = 0 repeats the final value
    np.testing.assert_array_equal(both[1, 41:], both[1, 40])


def test_record_steps(problem, ramp):
    full = bt.expected_risk(problem, ramp)
    np.testing.assert_array_equal(bt.expected_risk(problem, ramp, record_steps=[0, 5, 120]), full[[0, 5, 120]])


def test_grad_matches_finite_differences(problem):
    f = bt.make_risk_fn(problem)
    lr = jnp.full(30, 0.3)
    batch = jnp.full(30, 6.0)
    loss = lambda lr, b: f(lr, b)[-1]
    g_lr, g_b = jax.grad(loss, argnums=(0, 1))(lr, batch)
    h = 1e-6
    for i in (0, 17, 29):
        e = jnp.zeros(30).at[i].set(h)
        fd_lr = (loss(lr + e, batch) - loss(lr - e, batch)) / (2 * h)
        fd_b = (loss(lr, batch + e) - loss(lr, batch - e)) / (2 * h)
        # central differences are accurate to O(h^2) ~ 1e-12 relative here; 1e-6 covers rounding
        np.testing.assert_allclose(g_lr[i], fd_lr, rtol=1e-6)
        np.testing.assert_allclose(g_b[i], fd_b, rtol=1e-6)


def test_vmap_over_schedules(problem):
    f = bt.make_risk_fn(problem)
    lrs = jnp.stack([jnp.full(20, 0.1), jnp.full(20, 0.4)])
    out = jax.vmap(f, in_axes=(0, None))(lrs, jnp.full(20, 3.0))
    np.testing.assert_allclose(out[1], bt.expected_risk(problem, bt.constant(0.4, 3, 20)), rtol=RTOL_EXACT)


def test_grad_through_expected_risk_with_traced_schedule(problem):
    def final(lr):
        return bt.expected_risk(problem, bt.Schedule(lr, jnp.full(10, 4.0)))[-1]

    g = jax.grad(final)(jnp.full(10, 0.2))
    assert g.shape == (10,)
    # The same derivative by central differences of the independent dense propagation
    # (O(h^2) ~ 1e-12 relative at h = 1e-6, plus rounding ~1e-16 / h: 1e-6 covers both).
    H, theta = np.diag(problem.eigenvalues), problem.target
    h = 1e-6
    for i in (0, 4, 9):
        e = np.zeros(10)
        e[i] = h
        lr = np.full(10, 0.2)
        fd = (dense_sgd_risk(H, theta, problem.noise, lr + e, np.full(10, 4.0))[-1]
              - dense_sgd_risk(H, theta, problem.noise, lr - e, np.full(10, 4.0))[-1]) / (2 * h)
        np.testing.assert_allclose(g[i], fd, rtol=1e-6)
    assert np.all(np.asarray(g) < 0)  # a larger lr early lowers the risk at lr 0.2 (far below the limit)


def test_second_moments_give_risk(problem, ramp):
    m = bt.second_moments(problem, ramp)
    np.testing.assert_allclose(0.5 * m @ problem.eigenvalues, bt.expected_risk(problem, ramp), rtol=RTOL_EXACT)
    # Each mode's moment, not only their weighted sum: the diagonal of the dense d x d propagation
    # E[(w - theta*)(w - theta*)^T] in the eigenbasis (tests/helpers.py, written out here step by step).
    H = np.diag(problem.eigenvalues)
    S = np.outer(problem.target, problem.target)
    diag = [np.diag(S)]
    for eta, B in zip(ramp.lr, ramp.batch):
        HS = H @ S
        S = S - eta * (HS + HS.T) + eta**2 * (1 + 1 / B) * H @ S @ H + (eta**2 / B) * (np.trace(HS) + problem.noise**2) * H
        diag.append(np.diag(S))
    np.testing.assert_allclose(m, np.array(diag), rtol=RTOL_EXACT)


def test_no_recursion_for_monte_carlo_only_optimizers(problem, ramp):
    for opt in (bt.Adam(), bt.SignSGD(), bt.NormalizedSGD("sample"), bt.NormalizedSGD("conditional")):
        with pytest.raises(ValueError, match="no exact recursion"):
            bt.expected_risk(problem, ramp, opt)


def test_compiles_once(problem):
    from batchramp_theory.recursions import _stack as _risk_stack

    sched = bt.constant(0.2, 3, steps=77)
    bt.expected_risk(problem, sched)
    n = _risk_stack._cache_size()
    for lr in (0.1, 0.05, 0.3):
        bt.expected_risk(problem, bt.constant(lr, 5, steps=77))
    assert _risk_stack._cache_size() == n
