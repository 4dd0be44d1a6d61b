"""Exact gradient-noise statistics of one-pass SGD on Gaussian linear regression.

Per-sample loss ``l = 1/2 (x^T w - y)^2`` with ``x ~ N(0, H)``, ``y = x^T theta* + eps``,
``eps ~ N(0, sigma^2)``. With the residual ``r = w - theta*`` the per-sample gradient is
``g = x (x^T r - eps)`` and, by Isserlis' theorem (``E[x x^T A x x^T] = 2 H A H + tr(HA) H``),

    G     = E[g | w]      = H r
    Sigma = Cov(g | w)    = (r^T H r + sigma^2) H + H r r^T H

(docs/critical_batch.md, "1. Gradient-noise statistics (exact)"; docs/fsl.md, "Noise structure":
Lemma 4.8 of arXiv 2509.19189 with ``2E = r^T H r``). McCandlish et al. 2018 (arXiv
1812.06162, section 2) define, at an iterate ``w``,

    B_simple = tr(Sigma) / |G|^2        = 1 + (r^T H r + sigma^2) tr(H)   / (r^T H^2 r)
    B_noise  = tr(H Sigma) / (G^T H G)  = 1 + (r^T H r + sigma^2) tr(H^2) / (r^T H^3 r)

**Which expectation.** Along a training run the iterate ``w_k`` is itself random. This module
reports *ratios of expectations over the iterate*, e.g.
``B_noise(k) = E_w[tr(H Sigma(w_k))] / E_w[G(w_k)^T H G(w_k)]``. Every numerator and
denominator is a weighted sum ``sum_j lambda_j^p r_j^2`` (``p = 1, 2, 3``), so its expectation
needs only the exact per-mode second moments ``m_j(k) = E[r_j(k)^2]``
(:func:`batchramp_theory.second_moments`), and it is exact, not a mean-field approximation.
The ratio of expectations is also the quantity that governs the *expected* one-step
progress: for the quadratic loss McCandlish's second-order expansion of the one-step loss is
exact, and averaging it over the iterate at a deterministic learning rate ``eta`` gives
([derived]: McCandlish et al. state these formulas for a general model without proof
for this setting, so we derive everything here; docs/critical_batch.md, "The papers' claims")

    E[E_{k+1}] - E[E_k] = -eta E|G|^2 + 1/2 eta^2 (E[G^T H G] + E[tr(H Sigma)] / B)

exactly (it is the first moment of the risk recursion), so the best deterministic step is
``eta_opt = eta_max / (1 + B_noise / B)`` with ``eta_max = E|G|^2 / E[G^T H G]`` and
``B_noise`` the ratio of expectations. The expectation of the per-iterate ratio differs in
general (Jensen); it concentrates onto the ratio of expectations in high dimension. For a
*fixed* iterate pass ``moments = (w - theta*)^2``: then every quantity is the conditional one.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import as_float_array, check_scalar, record_index
from .divergence import handle_divergence
from .moments import mode_arrays, over_schedules, trajectory
from .optimizers import SGD, recursion_for
from .problem import Problem
from .schedules import stack_schedules

__all__ = [
    "NoiseStats",
    "stats_from_sums",
    "noise_stats",
    "noise_along",
    "gradient_covariance",
    "two_batch_estimates",
]


def _ratio(num, den):
    """``num / den``; diverged entries (``inf / inf``) give ``nan``, silently (NumPy or JAX arrays)."""
    if isinstance(num, jax.Array) or isinstance(den, jax.Array):
        return num / den
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.divide(num, den)


class NoiseStats(NamedTuple):
    """Exact gradient-noise statistics (module docstring); every field has the same shape.

    Fields are expectations over the iterate of quadratic forms in ``r = w - theta*``:

    - ``risk``: excess risk ``E = 1/2 sum_j lambda_j m_j``.
    - ``grad_norm2``: ``E|G|^2 = sum_j lambda_j^2 m_j``.
    - ``trace_sigma``: ``E tr Sigma = (sum_j lambda_j m_j + sigma^2) tr H + sum_j lambda_j^2 m_j``.
    - ``grad_hess_grad``: ``E[G^T H G] = sum_j lambda_j^3 m_j``.
    - ``trace_h_sigma``: ``E tr(H Sigma) = (sum_j lambda_j m_j + sigma^2) tr H^2 + sum_j lambda_j^3 m_j``.

    The McCandlish ratios are properties (ratios of expectations). Steps where the run
    diverged (``on_divergence="inf"``) hold ``inf`` in every field and ``nan`` in the ratios.
    """

    risk: np.ndarray
    grad_norm2: np.ndarray
    trace_sigma: np.ndarray
    grad_hess_grad: np.ndarray
    trace_h_sigma: np.ndarray

    @property
    def b_simple(self):
        """``B_simple = E tr Sigma / E|G|^2`` (McCandlish et al. 2018, arXiv 1812.06162 section 2)."""
        return _ratio(self.trace_sigma, self.grad_norm2)

    @property
    def b_noise(self):
        """``B_noise = E tr(H Sigma) / E[G^T H G]`` (McCandlish et al. 2018, arXiv 1812.06162 section 2)."""
        return _ratio(self.trace_h_sigma, self.grad_hess_grad)

    @property
    def lr_max(self):
        """``eta_max = E|G|^2 / E[G^T H G]``: the best step of full-batch GD (McCandlish et al. 2018, section 2)."""
        return _ratio(self.grad_norm2, self.grad_hess_grad)

    def optimal_lr(self, batch):
        """``eta_opt(B) = eta_max / (1 + B_noise / B)``: the step maximising the expected decrease."""
        # Written as E|G|^2 / (E[G^T H G] + E tr(H Sigma) / B): the same value, one rounding fewer.
        return _ratio(self.grad_norm2, self.grad_hess_grad + self.trace_h_sigma / batch)

    def expected_decrease(self, lr, batch):
        """Exact expected one-step risk decrease ``eta E|G|^2 - 1/2 eta^2 (E[G^T H G] + E tr(H Sigma)/B)``."""
        return lr * self.grad_norm2 - 0.5 * lr**2 * (self.grad_hess_grad + self.trace_h_sigma / batch)


def stats_from_sums(s1, s2, s3, lam, sigma, w=None):
    """``NoiseStats`` from ``s_p = sum_j w_j lambda_j^p m_j`` (works on NumPy and JAX arrays, also under jit).

    ``w``: mode weights of a quadrature problem (``None`` = 1), also in ``tr H^p = sum_j w_j lambda_j^p``.
    """
    wlam = lam if w is None else w * lam
    tr1, tr2 = wlam.sum(), (wlam * lam).sum()
    level = s1 + sigma**2  # r^T H r + sigma^2 = 2E + sigma^2: the isotropic noise level
    return NoiseStats(0.5 * s1, s2, level * tr1 + s2, s3, level * tr2 + s3)


def noise_stats(problem: Problem, moments) -> NoiseStats:
    """Gradient-noise statistics from per-mode second moments ``m_j = E[(w_j - theta_j)^2]``.

    ``moments`` has shape ``(..., d)``: the output of :func:`batchramp_theory.second_moments`
    (ratios of expectations over the iterate, module docstring) or ``(w - theta*)^2`` for a
    fixed iterate (conditional statistics). Every field of the result has shape ``(...)``.

    Examples:
        >>> import numpy as np, batchramp_theory as bt
        >>> p = bt.Problem([1.0, 0.5], [1.0, -1.0], noise=0.0)
        >>> st = bt.noise_stats(p, np.asarray(p.target) ** 2)   # at w0 = 0
        >>> float(st.b_noise)   # 1 + (r^T H r) tr(H^2) / (r^T H^3 r) = 1 + 1.5 * 1.25 / 1.125
        2.6666666666666665
    """
    m = as_float_array("moments", moments)
    lam = np.asarray(problem.eigenvalues)
    if m.ndim < 1 or m.shape[-1] != lam.size:
        raise ValueError(f"moments must have shape (..., {lam.size}), got {m.shape}")
    if np.any(m < 0):
        raise ValueError("moments must be non-negative (they are second moments)")
    sigma = float(problem.noise)
    w = problem.mode_weights
    return stats_from_sums(m @ (w * lam), m @ (w * lam**2), m @ (w * lam**3), lam, sigma, problem.weights)


@partial(jax.jit, static_argnames=("optimizer",))
def _stats_stack(modes, lr, batch, *, optimizer):
    """The sums ``sum_j w_j lambda_j^p m_j`` (``p = 1, 2, 3``) at steps ``0..K``, shape ``(S, 3, K+1)``.

    One pass of the seam's scan driver per schedule that keeps these three sums, not the
    ``(K+1) x d`` moments.
    """
    rec = optimizer.recursion("moments")
    pw = jnp.stack([modes.wlam, modes.wlam * modes.lam, modes.wlam * modes.lam**2])

    def observe(state, coupling, m):
        return pw @ rec.second_moment(state, m)

    return over_schedules(lambda l, b: trajectory(rec, modes, l, b, observe).T, lr, batch)


def noise_along(problem: Problem, schedule, optimizer=SGD(), *, record_steps=None, on_divergence: str = "raise") -> NoiseStats:
    """Exact noise statistics along the expected trajectory of one or many schedules.

    The second-moment recursion of :mod:`batchramp_theory.recursions` is run for every
    schedule in one vmapped ``lax.scan`` that keeps only ``sum_j lambda_j^p m_j(k)`` for
    ``p = 1, 2, 3`` (not the ``(K+1) x d`` moments), from which every field of
    :class:`NoiseStats` follows (ratios of expectations over the iterate; module docstring).
    ``risk`` equals :func:`batchramp_theory.expected_risk` exactly.

    Args:
        problem: the task.
        schedule: a :class:`~batchramp_theory.Schedule` or a sequence (padded with ``lr = 0``).
        optimizer: any optimizer with an exact recursion (``SGD``, ``Momentum``,
            ``NormalizedSGD("expected" | "variance")``). The noise statistics are those of the
            raw per-sample gradient at the current iterate, whatever the optimizer does with it.
        record_steps: optional step indices to keep.
        on_divergence: ``"raise"`` or ``"inf"`` (diverged entries become ``inf``), as in
            :func:`batchramp_theory.expected_risk`.

    Returns:
        :class:`NoiseStats` with fields of shape ``(K+1,)`` (one schedule) or ``(S, K_max+1)``.

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(100, 2.0, 0.5, noise=0.5)
        >>> st = bt.noise_along(p, bt.constant(0.3, 8, steps=500))
        >>> bool(st.b_noise[-1] > st.b_noise[0])   # the noise scale grows during training
        True
    """
    recursion_for(optimizer, problem)
    lr, batch, steps, single = stack_schedules(schedule)
    modes = mode_arrays(problem)
    dt = modes.lam.dtype
    sums = np.asarray(_stats_stack(modes, jnp.asarray(lr, dt), jnp.asarray(batch, dt), optimizer=optimizer))
    # Divergence is judged on the risk; the same steps of every field become inf.
    risk = handle_divergence(0.5 * sums[:, 0], steps, problem, on_divergence, what="expected risk")
    bad = ~np.isfinite(risk)
    sums = np.where(bad[:, None, :], np.inf, sums)
    if record_steps is not None:
        sums = sums[..., record_index(record_steps, lr.shape[1])]
    if single:
        sums = sums[0]
    lam_np = np.asarray(problem.eigenvalues)
    with np.errstate(invalid="ignore"):
        return stats_from_sums(sums[..., 0, :], sums[..., 1, :], sums[..., 2, :], lam_np, float(problem.noise), problem.weights)


def gradient_covariance(problem: Problem, w) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``(G, Sigma)`` of the per-sample gradient at a fixed iterate ``w``.

    ``G = H r`` and ``Sigma = (r^T H r + sigma^2) H + H r r^T H`` with ``r = w - theta*``
    (Isserlis; module docstring). ``O(d^2)`` memory: meant for small ``d`` and for tests.
    """
    if problem.weights is not None:
        raise ValueError("gradient_covariance needs real modes; problem has mode weights (a quadrature)")
    lam = np.asarray(problem.eigenvalues)
    w = as_float_array("w", w, ndim=1)
    if w.shape != lam.shape:
        raise ValueError(f"w must have shape {lam.shape}, got {w.shape}")
    r = w - np.asarray(problem.target)
    hr = lam * r
    level = float(r @ hr) + float(problem.noise) ** 2
    return hr, level * np.diag(lam) + np.outer(hr, hr)


def two_batch_estimates(g_small, g_big, batch_small: float, batch_big: float) -> tuple[np.ndarray, np.ndarray]:
    """McCandlish et al.'s unbiased estimators of ``|G|^2`` and ``tr Sigma`` (arXiv 1812.06162, section 2 / App. A).

    From independent mini-batch gradients at the same iterate with batches
    ``B_small < B_big`` (last axis = parameters; ``E|g_B|^2 = |G|^2 + tr(Sigma)/B``):

        |G|^2    ~ (B_big |g_big|^2 - B_small |g_small|^2) / (B_big - B_small)
        tr Sigma ~ (|g_small|^2 - |g_big|^2) / (1/B_small - 1/B_big)

    Returns per-sample estimates (shape of the leading axes); average them over iterates to
    estimate the ratio-of-expectations statistics of :func:`noise_along`.
    """
    bs = check_scalar("batch_small", batch_small, low=1.0)
    bb = check_scalar("batch_big", batch_big, low=1.0)
    if not bb > bs:
        raise ValueError(f"batch_big ({bb}) must be larger than batch_small ({bs})")
    n_small = np.sum(np.asarray(g_small) ** 2, axis=-1)
    n_big = np.sum(np.asarray(g_big) ** 2, axis=-1)
    return (bb * n_big - bs * n_small) / (bb - bs), (n_small - n_big) / (1 / bs - 1 / bb)
