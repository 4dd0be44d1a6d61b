"""Core-engine checks: Monte Carlo against the exact recursions, and the exact sampler's law, with negative controls."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import ks_2samp

from .. import SGD, Momentum, NormalizedSGD, constant, expected_risk, power_law_problem, simulate
from ..sampler import gradient_from_gram, gram_statistics, sample_gradient_explicit, split_step_key
from ..verify.bands import mean_and_se, within, z_band
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


# ----------------------------------------------------------------------------- the sampler's law
# A small problem where |u| = |H^(1/2) d| (1.38) and sigma (1.0) are comparable, so that the
# sigma a^T n cross term of the exact sampler (sampler.py, module docstring) carries weight, and a
# batch of 2: the law is far from Gaussian (third moments O(1/B)).
_LAW_LAM = (1.0, 0.5, 0.2)
_LAW_DELTA = (0.7, -1.1, 2.0)
_LAW_SIGMA = 1.0
_LAW_BATCH = 2
# (i, j, k) with i <= j <= k: the 10 distinct third moments of a 3-vector.
_TRIPLES = [(i, j, k) for i in range(3) for j in range(i, 3) for k in range(j, 3)]
# Two-sample KS at level 1e-3: reject when D > c sqrt((n + m) / (n m)), c = sqrt(-ln(alpha / 2) / 2).
_KS_C = math.sqrt(-math.log(1e-3 / 2) / 2)


def _law_draws(n: int, seed: int):
    """``n`` gradients of the exact sampler, and of the same sampler with the cross term's sign flipped.

    The exact draws are the simulator's route (simulate.py): the Gram scalars ``(a.a, a.n, n.n)``
    by :func:`~batchramp_theory.sampler.gram_statistics`, then
    :func:`~batchramp_theory.sampler.gradient_from_gram` (``sample_gradient`` is the same
    composition, with the same key split). The control feeds the same draws as
    ``(a.a, -a.n, n.n - 4 |u| a.n / sigma)``: that turns ``a.r = |u| a.a - sigma a.n`` into
    ``|u| a.a + sigma a.n`` and leaves ``|r|^2 = |u|^2 a.a - 2 sigma |u| a.n + sigma^2 n.n``
    unchanged (sampler.py, module docstring). Mean and covariance of ``g`` stay those of the true
    law (``E[a.a a.n] = 0``), higher moments do not.
    """
    lam = jnp.asarray(_LAW_LAM)
    delta = jnp.asarray(_LAW_DELTA)
    b = float(_LAW_BATCH)
    unorm = jnp.sqrt(jnp.dot(lam, delta * delta))

    @jax.jit
    def draw(keys):
        k = jax.vmap(split_step_key)(keys)
        aa, an, nn = gram_statistics(k[:, 0], jnp.asarray(b), delta.dtype)
        grad = jax.vmap(lambda kx, x, y, z: gradient_from_gram(kx, lam, delta, b, _LAW_SIGMA, x, y, z))
        return grad(k[:, 1], aa, an, nn), grad(k[:, 1], aa, -an, nn - 4.0 * unorm * an / _LAW_SIGMA)

    exact, flipped = draw(jax.random.split(jax.random.key(seed), n))
    return np.asarray(exact, dtype=np.float64), np.asarray(flipped, dtype=np.float64)


def _explicit_draws(n: int, seed: int):
    """``n`` gradients of the explicit ``B x d`` reference sampler (sampler.py)."""
    lam = jnp.asarray(_LAW_LAM)
    delta = jnp.asarray(_LAW_DELTA)
    fn = lambda k: sample_gradient_explicit(k, lam, delta, float(_LAW_BATCH), _LAW_SIGMA, max_batch=_LAW_BATCH)  # noqa: E731
    return np.asarray(jax.jit(jax.vmap(fn))(jax.random.split(jax.random.key(seed), n)), dtype=np.float64)


def _moment_products(g, order: int):
    """Per-draw products of the centred gradient ``c = g - H d``: all ``c_i c_j`` or ``c_i c_j c_k``."""
    c = g - np.asarray(_LAW_LAM) * np.asarray(_LAW_DELTA)
    if order == 2:
        return np.stack([c[:, i] * c[:, j] for i in range(3) for j in range(i, 3)], axis=1)
    return np.stack([c[:, i] * c[:, j] * c[:, k] for i, j, k in _TRIPLES], axis=1)


def _two_sample_max_z(a, b) -> float:
    """Largest ``|mean_a - mean_b| / sqrt(se_a^2 + se_b^2)`` over columns (two independent samples)."""
    ma, sa = mean_and_se(a)
    mb, sb = mean_and_se(b)
    return float(np.max(np.abs(ma - mb) / np.sqrt(sa**2 + sb**2)))


def _ks_ratio(a, b) -> float:
    """Largest two-sample KS distance over coordinates, over its 1e-3 critical value (> 1: rejected)."""
    n, m = a.shape[0], b.shape[0]
    crit = _KS_C * math.sqrt((n + m) / (n * m))
    return max(float(ks_2samp(a[:, j], b[:, j]).statistic) for j in range(a.shape[1])) / crit


@register("core.sampler_law")
def sampler_law(quick: bool):
    """The exact O(d) sampler against the explicit ``B x d`` sampler beyond second moments.

    Statistics: the 10 third moments ``E[c_i c_j c_k]`` of the centred gradient (two-sample max
    ``|z|``) and the per-coordinate two-sample KS distance. Negative control: the sampler with the
    ``sigma a.n`` cross term's sign flipped in ``a.r``, which keeps ``E[g]`` and ``E[g g^T]`` (its
    second moments pass) but not the law.
    """
    n = 50_000 if quick else 400_000
    exact, flipped = _law_draws(n, 21)
    explicit = _explicit_draws(n, 22)
    e3, x3 = _moment_products(exact, 3), _moment_products(explicit, 3)
    setup = f"{n} draws each, d = 3, B = {_LAW_BATCH}, |u| = 1.38, sigma = {_LAW_SIGMA}"
    z_reason = f"max |z| over 10 third moments, exact vs explicit sampler ({setup}); 5 SE (fixed seeds; a false alarm has probability ~6e-6)"
    ks_reason = f"max two-sample KS distance over 3 coordinates / its 1e-3 critical value ({setup})"
    return [
        within("core.sampler_law.third_moments", _two_sample_max_z(e3, x3), _K, reason=z_reason),
        within("core.sampler_law.ks", _ks_ratio(exact, explicit), 1.0, reason=ks_reason),
        within("core.sampler_law.negative_control.third_moments", _two_sample_max_z(_moment_products(flipped, 3), x3),
               _K, expected="fail", reason="sign of sigma a.n flipped in a.r: " + z_reason),
        within("core.sampler_law.negative_control.ks", _ks_ratio(flipped, explicit), 1.0, expected="fail",
               reason="sign of sigma a.n flipped in a.r: " + ks_reason),
        # Why the distributional check is needed: the flipped sampler passes the second moments.
        within("core.sampler_law.negative_control.second_moments_blind",
               _two_sample_max_z(_moment_products(flipped, 2), _moment_products(explicit, 2)), _K,
               reason=f"the flipped sampler keeps the covariance E(g g^T): max |z| over 6 second moments vs explicit ({setup})"),
    ]
