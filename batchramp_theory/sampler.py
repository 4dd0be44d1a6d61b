"""Mini-batch gradients of one-pass SGD on Gaussian data, exact in distribution at O(d) cost.

Derivation (docs/exact_sampler.md has it in full). With ``d = w - theta*``,
``u = H^{1/2} d``, a batch ``Z in R^{B x d}`` of standard Gaussians and noise
``eps = sigma n``, ``n ~ N(0, I_B)``, the mini-batch gradient is

    g = H^{1/2} (1/B) Z^T r,    r = Z u - eps.

Fix the unit vector ``e = u/|u|`` and write ``Z = a e^T + Z P``, ``P = I - e e^T``,
``a = Z e ~ N(0, I_B)``. ``Z P`` is independent of ``a`` and of ``n``, and ``r = |u| a - sigma n``
depends only on ``(a, n)``. Hence ``P Z^T r | r ~ N(0, |r|^2 P)`` and, in distribution,

    g = H^{1/2} (1/B) [ e (a^T r) + |r| P xi ],   xi ~ N(0, I_d),

where ``a^T r = |u| a^T a - sigma a^T n`` and
``|r|^2 = |u|^2 a^T a - 2 sigma |u| a^T n + sigma^2 n^T n``. Only the Gram matrix
``W = [a n]^T [a n] ~ Wishart_2(I, B)`` matters; by the Bartlett decomposition
``W = L L^T``, ``L = [[c1, 0], [z, c2]]`` with ``c1^2 ~ chi2_B``, ``c2^2 ~ chi2_{B-1}``,
``z ~ N(0, 1)`` independent. Cost: ``d`` normals, three scalars, ``O(d)`` arithmetic,
independent of ``B``. The identity holds for *any* fixed unit ``e``, so ``u = 0`` uses ``e_1``.

The explicit ``B x d`` sampler is kept as the reference (tests) and for non-Gaussian
(Rademacher) features, where the shortcut does not apply.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["sample_gradient", "sample_gradient_explicit"]


def _chi2(key, dof, dtype):
    # chi2_k = 2 Gamma(k/2); dof may be a traced float, so a changing batch never recompiles.
    return 2.0 * jax.random.gamma(key, dof / 2.0, dtype=dtype)


def sample_gradient(key, eigenvalues, delta, batch, noise):
    """One mini-batch gradient, exact in distribution, O(d) work for any batch size.

    Args:
        key: PRNG key.
        eigenvalues: ``(d,)`` eigenvalues of ``H``.
        delta: ``(d,)`` current ``w - theta*``.
        batch: batch size ``B >= 1`` (scalar, may be traced).
        noise: label-noise std ``sigma``.

    Returns:
        ``(d,)`` gradient with the law of ``(1/B) sum_i x_i (x_i^T w - y_i)``.
    """
    dtype = delta.dtype
    lam = eigenvalues.astype(dtype)
    batch = jnp.asarray(batch, dtype)
    sigma = jnp.asarray(noise, dtype)
    k1, k2, k3, k4 = jax.random.split(key, 4)
    sqrt_lam = jnp.sqrt(lam)
    u = sqrt_lam * delta
    unorm = jnp.linalg.norm(u)
    e1 = jnp.zeros_like(u).at[0].set(1.0)
    e = jnp.where(unorm > 0, u / jnp.where(unorm > 0, unorm, 1.0), e1)
    c1sq = _chi2(k1, batch, dtype)
    # chi2 with B - 1 = 0 degrees of freedom is exactly 0 (batch of one).
    c2sq = jnp.where(batch > 1, _chi2(k2, jnp.maximum(batch - 1, 1.0), dtype), 0.0)
    z = jax.random.normal(k3, (), dtype)
    xi = jax.random.normal(k4, u.shape, dtype)
    aa = c1sq
    an = jnp.sqrt(c1sq) * z
    nn = z * z + c2sq
    a_dot_r = unorm * aa - sigma * an
    r_sq = unorm**2 * aa - 2.0 * sigma * unorm * an + sigma**2 * nn
    r_norm = jnp.sqrt(jnp.maximum(r_sq, 0.0))
    xi_perp = xi - e * jnp.dot(e, xi)
    return sqrt_lam * (e * a_dot_r + r_norm * xi_perp) / batch


def sample_gradient_explicit(key, eigenvalues, delta, batch, noise, *, max_batch: int, features: str = "gaussian"):
    """Reference sampler: draw the ``max_batch x d`` data matrix and mask rows ``>= batch``.

    ``features="rademacher"`` draws ``x_j = sqrt(lambda_j) * (+-1)`` (same covariance,
    different fourth moments: Seesaw pitfall P9), for which no exact shortcut exists.
    """
    dtype = delta.dtype
    lam = eigenvalues.astype(dtype)
    kz, ke = jax.random.split(key)
    shape = (max_batch, lam.shape[0])
    if features == "gaussian":
        z = jax.random.normal(kz, shape, dtype)
    elif features == "rademacher":
        z = jax.random.rademacher(kz, shape, dtype)
    else:
        raise ValueError(f"features must be 'gaussian' or 'rademacher', got {features!r}")
    x = z * jnp.sqrt(lam)
    eps = jnp.asarray(noise, dtype) * jax.random.normal(ke, (max_batch,), dtype)
    batch = jnp.asarray(batch, dtype)
    mask = (jnp.arange(max_batch) < batch).astype(dtype)
    resid = (x @ delta - eps) * mask
    return x.T @ resid / batch
