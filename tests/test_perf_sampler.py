"""The vectorised exact sampler: chi-square draws, Gram statistics, the gradient law, the simulator.

Statistical tests use fixed seeds, so a failure is a real fault. KS tests use p > 1e-3; moment
tests use 5 standard errors (max over a handful of statistics: a false alarm has probability
~1e-5 under the null).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st
from helpers import max_abs_z

import batchramp_theory as bt
from batchramp_theory.sampler import chi2, gram_statistics, sample_gradient, sample_gradient_explicit

N = 20000
KEYS = jax.random.split(jax.random.key(11), N)
# One compilation per function (dof / batch are traced): compiles dominate these tests' time.
_chi2 = jax.jit(chi2, static_argnames="trials")
_gram = jax.jit(gram_statistics)


@pytest.mark.parametrize("trials", [1, 2])
def test_chi2_law(trials):
    # trials=1 sends ~5% of the variates (dof near 2) through the masked redraw loop: the law
    # must not depend on it.
    for dof in [0.5, 1.0, 1.7, 2.0, 3.0, 7.0, 64.0, 4096.0]:
        x = np.asarray(_chi2(KEYS, jnp.asarray(dof), trials=trials))
        assert st.kstest(x, st.chi2(dof).cdf).pvalue > 1e-3, dof


def test_chi2_bits_do_not_depend_on_the_other_entries():
    # One proposal per variate at dof = 2 rejects ~5% of the entries, more than the redraw loop's
    # slots per round (1/32 of the entries): entries wait for later rounds. Each entry's value must
    # still depend on its own key only, so drawing the keys whole, in halves or one block of 1000
    # gives the same bits (the simulator draws a chunk's Gram scalars in blocks). A redraw stream
    # indexed by the loop's round instead of the entry's own count fails this.
    whole = np.asarray(_chi2(KEYS, jnp.asarray(2.0), trials=1))
    halves = np.concatenate([np.asarray(_chi2(k, jnp.asarray(2.0), trials=1)) for k in (KEYS[: N // 2], KEYS[N // 2 :])])
    np.testing.assert_array_equal(whole, halves)
    np.testing.assert_array_equal(whole[:1000], np.asarray(_chi2(KEYS[:1000], jnp.asarray(2.0), trials=1)))


def test_chi2_float32_and_edges():
    x = np.asarray(_chi2(KEYS, jnp.float32(5.0)))
    assert x.dtype == np.float32 and st.kstest(x, st.chi2(5.0).cdf).pvalue > 1e-3
    assert np.all(np.asarray(_chi2(KEYS, jnp.asarray(0.0))) == 0.0)  # chi2_0 is exactly 0
    assert np.all(np.isnan(np.asarray(_chi2(KEYS, jnp.asarray(np.inf)))))  # no infinite loop


@pytest.mark.parametrize("batch", [1.0, 2.0, 5.0, 300.0])
def test_gram_statistics_wishart(batch):
    aa, an, nn = map(np.asarray, _gram(KEYS, jnp.asarray(batch)))
    # Bartlett: a.a ~ chi2_B, a.n / sqrt(a.a) ~ N(0, 1) independent of a.a, n.n ~ chi2_B.
    assert st.kstest(aa, st.chi2(batch).cdf).pvalue > 1e-3
    assert st.kstest(nn, st.chi2(batch).cdf).pvalue > 1e-3
    assert st.kstest(an / np.sqrt(aa), "norm").pvalue > 1e-3
    # Wishart_2(I, B): Cov(W11, W22) = 0 and E[W12^2] = B.
    z_cov = np.corrcoef(aa, nn)[0, 1] * np.sqrt(N)
    z_w12 = (np.mean(an**2) - batch) / (np.std(an**2) / np.sqrt(N))
    assert abs(z_cov) < 5 and abs(z_w12) < 5


def test_gram_statistics_broadcast_shares_keys():
    # keys (3, 4) against batch (3, 1, 1) -> (3, 3, 4); equal keys and batch give equal numbers
    # (common random numbers across the schedules of a stack).
    keys = KEYS[:12].reshape(3, 4)
    aa, an, nn = gram_statistics(keys[None], jnp.array([4.0, 4.0, 9.0]).reshape(3, 1, 1))
    assert aa.shape == an.shape == nn.shape == (3, 3, 4)
    np.testing.assert_array_equal(aa[0], aa[1])
    assert not np.array_equal(aa[0], aa[2])


def _moments(g):
    mean = g.mean(0)
    cov = np.cov(g.T)
    return mean, cov


_LAM = jnp.array([1.0, 0.5, 0.2])
_DELTA = jnp.array([0.7, -1.1, 2.0])
_exact_many = jax.jit(jax.vmap(lambda k, b: sample_gradient(k, _LAM, _DELTA, b, 0.6), in_axes=(0, None)))
_explicit_many = jax.jit(jax.vmap(
    lambda k, b: sample_gradient_explicit(k, _LAM, _DELTA, b, 0.6, max_batch=40), in_axes=(0, None)))


@pytest.mark.parametrize("batch", [1, 3, 40])
def test_gradient_law_matches_explicit(batch):
    # E g = H d, Cov g = ((d^T H d + sigma^2) H + H d d^T H) / B (Gaussian fourth moment).
    sigma = 0.6
    n = 40000
    keys = jax.random.split(jax.random.key(5), n)
    exact = np.asarray(_exact_many(keys, float(batch)))
    expl = np.asarray(_explicit_many(keys, float(batch)))
    h, d = np.asarray(_LAM), np.asarray(_DELTA)
    mean_true = h * d
    cov_true = ((d @ (h * d) + sigma**2) * np.diag(h) + np.outer(h * d, h * d)) / batch
    for g in (exact, expl):
        mean, cov = _moments(g)
        se_mean = np.sqrt(np.diag(cov_true) / n)
        assert np.max(np.abs(mean - mean_true) / se_mean) < 5
        c = g - mean_true
        prods = c[:, :, None] * c[:, None, :]
        se_cov = prods.reshape(n, -1).std(0) / np.sqrt(n)
        assert np.max(np.abs(cov.ravel() - cov_true.ravel()) / se_cov) < 5
    # The full law, coordinate by coordinate (two-sample KS against the explicit sampler).
    for j in range(3):
        assert st.ks_2samp(exact[:, j], expl[:, j]).pvalue > 1e-3


_P16 = bt.power_law_problem(16, 2.0, 0.5, noise=0.5)
_SCHED = bt.constant(0.3, 3, 12) + bt.constant(0.3, 1, 8)


def test_simulator_reproduces_sample_gradient_steps():
    risk = bt.simulate(_P16, _SCHED, num_runs=3, seed=4)
    lam = jnp.asarray(_P16.eigenvalues)
    run_key = jax.random.split(jax.random.key(4), 3)[2]
    delta = -jnp.asarray(_P16.target)
    manual = []
    grad = jax.jit(sample_gradient)
    for k in range(_SCHED.steps):
        g = grad(jax.random.fold_in(run_key, k), lam, delta, float(_SCHED.batch[k]), 0.5)
        delta = delta - _SCHED.lr[k] * g
        manual.append(float(0.5 * jnp.dot(lam, delta * delta)))
    # Same keys, same operations; only XLA's fusion may reassociate: 1e-12 relative.
    np.testing.assert_allclose(risk[2, 1:], manual, rtol=1e-12)


def test_simulator_chunking_seed_and_stacking_are_bit_exact():
    a = bt.simulate(_P16, _SCHED, num_runs=3, seed=4)  # same shapes as above: no new compile
    np.testing.assert_array_equal(a, bt.simulate(_P16, _SCHED, num_runs=3, seed=4))
    np.testing.assert_array_equal(a, bt.simulate(_P16, _SCHED, num_runs=3, seed=4, chunk_size=7))
    # Common random numbers: a schedule's runs do not depend on the other schedules of a stack.
    other = bt.constant(0.2, 4, 20)
    both = bt.simulate(_P16, [other, _SCHED], num_runs=3, seed=4)
    np.testing.assert_allclose(both[1], a, rtol=1e-13)  # vmap width may change XLA's vectorisation


def test_simulator_gram_blocks_do_not_change_bits(monkeypatch):
    # The chunk's Gram scalars are drawn in blocks of steps (simulate._keys_and_gram); blocks of
    # 2 steps for 3 runs (the last one padded) must give the same bits as one block.
    import importlib

    sim = importlib.import_module("batchramp_theory.simulate")
    a = bt.simulate(_P16, _SCHED, num_runs=3, seed=4, chunk_size=7)
    monkeypatch.setattr(sim, "_GRAM_BLOCK", 6)
    sim._chunk.clear_cache()  # the block size is read when the chunk is traced
    try:
        np.testing.assert_array_equal(a, bt.simulate(_P16, _SCHED, num_runs=3, seed=4, chunk_size=7))
    finally:
        sim._chunk.clear_cache()


def test_rbg_keys_work():
    key = jax.random.key(0, impl="rbg")
    r = bt.simulate(_P16, _SCHED, num_runs=100, seed=key)
    np.testing.assert_array_equal(r, bt.simulate(_P16, _SCHED, num_runs=100, seed=key))
    # The law does not depend on the key implementation: the mean of 100 runs is the exact risk
    # within 5 standard errors at every step (max over 20 correlated steps; fixed key).
    assert max_abs_z(r[:, 1:], bt.expected_risk(_P16, _SCHED)[1:]) < 5


def test_simulate_refuses_weighted_problem():
    q = bt.power_law_problem(None, 2.0, 0.5, noise=0.5, quadrature=200)
    with pytest.raises(ValueError, match="mode weights"):
        bt.simulate(q, bt.constant(0.1, 4, 10))
    with pytest.raises(ValueError, match="mode weights"):
        bt.sharded_simulate(q, bt.constant(0.1, 4, 10))
