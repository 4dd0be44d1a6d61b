"""Problems beyond the power law: covariance, spectrum, random features, data (docs/problems.md).

Exact reductions are held to RTOL_EXACT (1e-10, float64 identities); Monte Carlo to 5 standard
errors (max |z| over ~10 recorded steps: a false alarm has probability ~1e-5, seeds fixed), each
with a negative control that must fail.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import RTOL_EXACT, dense_sgd_risk, max_abs_z, random_rotation

import batchramp_theory as bt

jax.config.update("jax_enable_x64", True)

_K = 5.0


@pytest.fixture
def ramp():
    rng = np.random.default_rng(3)
    return bt.Schedule(rng.uniform(0.05, 0.5, 80), rng.integers(1, 30, 80))


def test_from_covariance_is_the_diagonal_problem_under_a_rotation(ramp):
    base = bt.power_law_problem(10, 1.6, 0.7, noise=0.4)
    Q = random_rotation(10, seed=5)
    cov = Q @ np.diag(base.eigenvalues) @ Q.T
    p = bt.Problem.from_covariance(cov, Q @ base.target, base.noise)
    np.testing.assert_allclose(np.sort(p.eigenvalues), np.sort(base.eigenvalues), rtol=RTOL_EXACT)
    np.testing.assert_allclose(bt.expected_risk(p, ramp), bt.expected_risk(base, ramp), rtol=RTOL_EXACT)
    # independent of the eigenbasis code path: dense propagation of the rotated process
    dense = dense_sgd_risk(cov, Q @ base.target, base.noise, ramp.lr, ramp.batch)
    np.testing.assert_allclose(bt.expected_risk(p, ramp), dense, rtol=RTOL_EXACT)
    # negative control: the target not rotated with the covariance is a different problem
    wrong = bt.Problem.from_covariance(cov, base.target, base.noise)
    assert np.max(np.abs(bt.expected_risk(wrong, ramp) / dense - 1)) > 1e-3


def test_from_spectrum_matches_power_law_energies(ramp):
    base = bt.power_law_problem(16, 2.0, 0.5, noise=0.3)
    energy = base.eigenvalues * base.target**2
    p = bt.Problem.from_spectrum(base.eigenvalues, energy, 0.3)
    np.testing.assert_allclose(bt.expected_risk(p, ramp), bt.expected_risk(base, ramp), rtol=RTOL_EXACT)
    # signs do not matter to the recursion; energies squared instead of linear do
    flipped = bt.Problem(base.eigenvalues, -base.target, 0.3)
    np.testing.assert_allclose(bt.expected_risk(flipped, ramp), bt.expected_risk(p, ramp), rtol=RTOL_EXACT)
    wrong = bt.Problem.from_spectrum(base.eigenvalues, energy**2, 0.3)
    assert np.max(np.abs(bt.expected_risk(wrong, ramp) / bt.expected_risk(p, ramp) - 1)) > 1e-2


def test_singular_covariance_drops_null_modes(ramp):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 3))
    cov = A @ A.T / np.trace(A @ A.T)  # rank 3, tr = 1 (stable for lr < 0.5)
    theta = rng.standard_normal(6)
    p = bt.Problem.from_covariance(cov, theta, 0.2)
    assert p.dim == 3
    np.testing.assert_allclose(bt.expected_risk(p, ramp), dense_sgd_risk(cov, theta, 0.2, ramp.lr, ramp.batch),
                               rtol=1e-9)  # the dropped eigenvalues are ~1e-16, not exactly 0


def test_every_engine_accepts_a_covariance_problem():
    Q = random_rotation(8, seed=2)
    base = bt.power_law_problem(8, 2.0, 0.5, noise=0.5)
    p = bt.Problem.from_covariance(Q @ np.diag(base.eigenvalues) @ Q.T, Q @ base.target, 0.5)
    s = bt.constant(0.3, 4, 30)
    np.testing.assert_allclose(bt.noise_along(p, s).b_simple, bt.noise_along(base, s).b_simple, rtol=1e-9)
    assert abs(bt.stability_limit(p, 4) - bt.stability_limit(base, 4)) < 1e-9 * bt.stability_limit(base, 4)
    f1, f2 = bt.mode_sum_fsl(p, s), bt.mode_sum_fsl(base, s)
    np.testing.assert_allclose(np.asarray(f1.signal), np.asarray(f2.signal), rtol=1e-9)
    assert bt.simulate(p, s, num_runs=4, seed=0).shape == (4, 31)


@pytest.mark.parametrize("bad, match", [
    (dict(covariance=np.ones((2, 3))), "covariance"),
    (dict(covariance=np.array([[1.0, 2.0], [0.0, 1.0]])), "symmetric"),
    (dict(covariance=np.array([[1.0, 0.0], [0.0, -1.0]])), "positive semi-definite"),
    (dict(covariance=np.array([[np.nan, 0.0], [0.0, 1.0]])), "covariance"),
    (dict(target=[1.0, 2.0, 3.0]), "target"),
])
def test_from_covariance_rejects_bad_input(bad, match):
    kw = dict(covariance=np.eye(2), target=[1.0, 1.0], noise=0.1) | bad
    with pytest.raises(ValueError, match=match):
        bt.Problem.from_covariance(**kw)


def test_from_spectrum_and_data_reject_bad_input():
    with pytest.raises(ValueError, match="target_energies"):
        bt.Problem.from_spectrum([1.0, 0.5], [1.0, -0.1])
    with pytest.raises(ValueError, match="target_energies"):
        bt.Problem.from_spectrum([1.0, 0.5], [1.0])
    with pytest.raises(ValueError, match="eigenvalues"):
        bt.Problem.from_spectrum([1.0, -0.5], [1.0, 1.0])
    with pytest.raises(ValueError, match="y"):
        bt.Problem.from_data(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="X"):
        bt.Problem.from_data(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="X"):
        bt.Problem.from_data(np.zeros((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="sampler='rows'"):
        bt.simulate(bt.power_law_problem(4, 2.0, 0.5), bt.constant(0.1, 2, 5), sampler="rows")
    with pytest.raises(ValueError, match="width"):
        bt.random_features(10, 0, 2.0, 0.5)


# ---- random features -------------------------------------------------------------------------


@pytest.mark.parametrize("width", [12, 40])  # under- and over-parametrised (rank = dim = 30)
def test_random_features_reduction_is_exact_for_the_risk_recursion(width, ramp):
    m = bt.random_features(30, width, 2.0, 0.5, noise=0.4, seed=1)
    K = m.feature_covariance
    sigma_eff = float(m.problem.noise)
    np.testing.assert_allclose(sigma_eff**2, 0.4**2 + m.approximation_error, rtol=RTOL_EXACT)
    dense = dense_sgd_risk(K, m.target, sigma_eff, ramp.lr * 0.5, ramp.batch)
    got = bt.expected_risk(m.problem, bt.Schedule(ramp.lr * 0.5, ramp.batch))
    np.testing.assert_allclose(got, dense, rtol=RTOL_EXACT)
    # the approximation error is the input-space risk of the best feature predictor
    b = np.sqrt(m.base.eigenvalues) * (m.base.target - m.projection @ m.target)
    np.testing.assert_allclose(np.sum(b**2), m.approximation_error, rtol=1e-8, atol=1e-14)
    # negative control: forgetting the approximation error in the noise changes the risk
    naive = bt.Problem(m.problem.eigenvalues, m.problem.target, 0.4)
    if m.approximation_error > 1e-8:
        assert np.max(np.abs(bt.expected_risk(naive, bt.Schedule(ramp.lr * 0.5, ramp.batch)) / got - 1)) > 1e-3


def _explicit_feature_sgd(m, lr, batch, steps, runs, seed):
    """SGD on v in R^width: x ~ N(0, H) drawn (B x dim), z = W^T x, y = <x, theta*> + sigma n.

    Returns the (runs, steps+1) excess risk 1/2 (v - v*)^T K (v - v*) over the features' optimum.
    """
    lam = jnp.asarray(m.base.eigenvalues)
    theta = jnp.asarray(m.base.target)
    W = jnp.asarray(m.projection)
    K = jnp.asarray(m.feature_covariance)
    vstar = jnp.asarray(m.target)
    sigma = float(m.base.noise)

    def risk(v):
        d = v - vstar
        return 0.5 * d @ K @ d

    def one_run(key):
        def body(v, k):
            kx, kn = jax.random.split(k)
            x = jax.random.normal(kx, (batch, lam.shape[0])) * jnp.sqrt(lam)
            y = x @ theta + sigma * jax.random.normal(kn, (batch,))
            z = x @ W
            v = v - lr * z.T @ (z @ v - y) / batch
            return v, risk(v)

        v0 = jnp.zeros(W.shape[1])
        _, r = jax.lax.scan(body, v0, jax.random.split(key, steps))
        return jnp.concatenate([risk(v0)[None], r])

    return np.asarray(jax.jit(jax.vmap(one_run))(jax.random.split(jax.random.key(seed), runs)))


def test_random_features_monte_carlo_on_explicit_features():
    # noise 0.1 (sigma^2 = 0.01) next to an approximation error of 0.12, so that the control
    # (noise without it) differs; lr well inside the stability limit (0.71 here), where the risk's
    # spread is moderate and the standard error is trustworthy (at lr = 0.6 single runs spike)
    m = bt.random_features(40, 16, 2.0, 0.5, noise=0.1, seed=3)
    lr, batch, steps = 0.25, 4, 300
    mc = _explicit_feature_sgd(m, lr, batch, steps, runs=400, seed=11)
    rec = np.unique(np.geomspace(1, steps, 10).astype(int))
    exact = np.asarray(bt.expected_risk(m.problem, bt.constant(lr, batch, steps)))
    assert max_abs_z(mc[:, rec], exact[rec]) < _K
    # negative control: the reduced problem without the approximation error in its noise
    naive = bt.Problem(m.problem.eigenvalues, m.problem.target, 0.1)
    wrong = np.asarray(bt.expected_risk(naive, bt.constant(lr, batch, steps)))
    assert max_abs_z(mc[:, rec], wrong[rec]) > _K


# ---- data -----------------------------------------------------------------------------------


def test_from_data_risk_is_the_exact_empirical_excess_risk():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 7)) @ rng.standard_normal((7, 7))
    X[:, 3] = X[:, 1] + X[:, 2]  # a null direction
    y = X @ rng.standard_normal(7) + 0.3 * np.sign(rng.standard_normal(200))
    p = bt.Problem.from_data(X, y)
    assert p.dim == 6
    F, e = p.rows.features, p.rows.residuals
    np.testing.assert_allclose(F.T @ F / 200, np.diag(p.eigenvalues), atol=1e-10 * p.eigenvalues[0])
    np.testing.assert_allclose(p.noise**2, np.mean(e**2), rtol=RTOL_EXACT)
    v = rng.standard_normal(6)
    empirical = 0.5 * np.mean((F @ v - (F @ p.target + e)) ** 2) - 0.5 * np.mean(e**2)
    np.testing.assert_allclose(float(bt.excess_risk(p, v)), empirical, rtol=1e-9)


def test_rows_sampler_gradient_mean_is_the_population_gradient():
    rng = np.random.default_rng(6)
    X = rng.exponential(size=(50, 4))
    y = rng.standard_normal(50)
    p = bt.Problem.from_data(X, y)
    delta = jnp.asarray(rng.standard_normal(4))
    keys = jax.random.split(jax.random.key(0), 20000)
    g = jax.vmap(lambda k: bt.sample_gradient_rows(k, jnp.asarray(p.rows.features), jnp.asarray(p.rows.residuals),
                                                    delta, 3, max_batch=5))(keys)
    mean, se = np.asarray(g.mean(0)), np.asarray(g.std(0)) / np.sqrt(keys.shape[0])
    want = p.eigenvalues * np.asarray(delta)  # E[f (f^T delta - e)] = H delta (F^T e = 0)
    assert np.max(np.abs(mean - want) / se) < _K
    assert np.max(np.abs(mean - 1.2 * want) / se) > _K  # negative control


def test_rows_sgd_on_gaussian_rows_matches_the_recursion():
    # With many Gaussian rows the empirical distribution is nearly Gaussian: true SGD on the
    # rows agrees with the recursion of its (exact-population) problem within a few SE.
    rng = np.random.default_rng(8)
    base = bt.power_law_problem(8, 2.0, 0.5, noise=0.5)
    X = rng.standard_normal((20000, 8)) * np.sqrt(base.eigenvalues)
    y = X @ base.target + 0.5 * rng.standard_normal(20000)
    p = bt.Problem.from_data(X, y)
    s = bt.constant(0.5, 4, 100)
    rec = np.unique(np.geomspace(1, 100, 10).astype(int))
    mc = np.asarray(bt.simulate(p, s, num_runs=400, seed=2, sampler="rows", record_steps=rec))
    exact = np.asarray(bt.expected_risk(p, s, record_steps=rec))
    assert max_abs_z(mc, exact) < _K
    wrong = np.asarray(bt.expected_risk(p, bt.constant(0.5, 16, 100), record_steps=rec))
    assert max_abs_z(mc, wrong) > _K


def test_problem_with_rows_is_a_pytree():
    p = bt.Problem.from_data(np.eye(3) * 2.0, np.ones(3))
    leaves, tree = jax.tree_util.tree_flatten(p)
    q = jax.tree_util.tree_unflatten(tree, leaves)
    assert q.rows is p.rows
