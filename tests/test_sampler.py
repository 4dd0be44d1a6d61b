"""The exact O(d) gradient sampler against the explicit B x d sampler and the closed-form moments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import batchramp_theory as bt

D = 6
LAM = jnp.asarray(np.arange(1, D + 1, dtype=float) ** -1.5)
DELTA = jnp.asarray(np.linspace(-1.0, 0.8, D))
N = 20_000  # samples per distribution: SE of a mean/covariance entry ~ 0.7% of its scale


# One compiled program per sampler (batch, sigma and delta are traced; the explicit sampler's
# max_batch is static), shared by every test: compiling dominates these tests' cost.
_exact_many = jax.jit(jax.vmap(lambda k, d, b, s: bt.sample_gradient(k, LAM, d, b, s), in_axes=(0, None, None, None)))
_explicit_many = jax.jit(
    jax.vmap(lambda k, d, b, s, mb: bt.sample_gradient_explicit(k, LAM, d, b, s, max_batch=mb),
             in_axes=(0, None, None, None, None)),
    static_argnums=4,
)


def _draw(sampler, batch, sigma, seed, n=N, delta=DELTA):
    keys = jax.random.split(jax.random.key(seed), n)
    args = (keys, jnp.asarray(delta, float), float(batch), float(sigma))
    if sampler == "exact":
        return np.asarray(_exact_many(*args))
    return np.asarray(_explicit_many(*args, int(batch)))


def _closed_form(batch, sigma, delta=DELTA):
    # E[g] = H d; Cov[g] = ((d^T H d + sigma^2) H + H d d^T H) / B  (Isserlis, Gaussian x)
    lam, d = np.asarray(LAM), np.asarray(delta)
    hd = lam * d
    return hd, ((d @ hd + sigma**2) * np.diag(lam) + np.outer(hd, hd)) / batch


@pytest.mark.parametrize("sampler", ["exact", "explicit"])
@pytest.mark.parametrize("batch,sigma", [(1, 0.5), (3, 0.0), (16, 1.0)])
def test_first_two_moments(sampler, batch, sigma):
    g = _draw(sampler, batch, sigma, seed=batch)
    _assert_moments(g, *_closed_form(batch, sigma))


def _assert_moments(g, mean, cov):
    n = g.shape[0]
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.max(np.abs(g.mean(0) - mean) / se_mean) < 5  # 5 SE over 6 entries, fixed seed
    # covariance entries: SE <= sqrt(Var(g_i g_j)/N); 6 SE with the empirical fourth moment
    c = g - mean
    prod = c[:, :, None] * c[:, None, :]
    se_cov = prod.std(0) / np.sqrt(n)
    assert np.max(np.abs(prod.mean(0) - cov) / se_cov) < 6


@pytest.mark.parametrize("batch,sigma", [(1, 0.5), pytest.param(4, 0.3, marks=pytest.mark.slow), (64, 1.0)])
def test_exact_matches_explicit_in_distribution(batch, sigma):
    # Two-sample KS on projections that probe the u-direction, the orthogonal part and the
    # norm: a wrong Wishart or a wrong orthogonal scale changes these laws.
    ge = _draw("exact", batch, sigma, seed=10 + batch, n=20_000)
    gx = _draw("explicit", batch, sigma, seed=20 + batch, n=20_000)
    u = np.asarray(jnp.sqrt(LAM) * DELTA)
    perp = np.eye(D)[0] - u * u[0] / (u @ u)
    for proj in (lambda g: g @ u, lambda g: g @ perp, lambda g: np.linalg.norm(g, axis=1), lambda g: g[:, -1]):
        p = stats.ks_2samp(proj(ge), proj(gx)).pvalue
        assert p > 1e-4  # fixed seeds; a real mismatch drives p to ~0 at n = 20000


def test_negative_control_wrong_wishart_is_detected():
    # Replacing chi2_B by its mean B (a plausible "shortcut") must be caught by the same test.
    batch, sigma = 2, 0.3

    def wrong(k):
        u = jnp.sqrt(LAM) * DELTA
        un = jnp.linalg.norm(u)
        e = u / un
        xi = jax.random.normal(k, (D,))
        a_dot_r = un * batch
        r = jnp.sqrt(un**2 * batch + sigma**2 * batch)
        return jnp.sqrt(LAM) * (e * a_dot_r + r * (xi - e * (e @ xi))) / batch

    gw = np.asarray(jax.vmap(wrong)(jax.random.split(jax.random.key(3), 20_000)))
    gx = _draw("explicit", batch, sigma, seed=4, n=20_000)
    u = np.asarray(jnp.sqrt(LAM) * DELTA)
    assert stats.ks_2samp(gw @ u, gx @ u).pvalue < 1e-6


def test_zero_residual_direction_is_handled():
    # u = 0: the gradient is pure label noise, g = -H^{1/2} Z^T eps / B; no NaN.
    g = _draw("exact", 5, 0.7, seed=0, n=20_000, delta=jnp.zeros(D))
    assert np.all(np.isfinite(g))
    _assert_moments(g, *_closed_form(5, 0.7, delta=np.zeros(D)))


def test_noiseless_zero_residual_gives_zero_gradient():
    g = _exact_many(jax.random.split(jax.random.key(0), N), jnp.zeros(D), 8.0, 0.0)  # reuses the compiled program
    np.testing.assert_array_equal(np.asarray(g), 0.0)


def test_cost_does_not_depend_on_batch():
    # Same traced program for any batch: a new batch size must not recompile.
    f = jax.jit(bt.sample_gradient)
    f(jax.random.key(0), LAM, DELTA, 3.0, 0.5)
    n = f._cache_size()
    f(jax.random.key(0), LAM, DELTA, 4096.0, 0.5)
    assert f._cache_size() == n
