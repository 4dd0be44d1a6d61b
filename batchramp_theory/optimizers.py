"""Optimizers, as small frozen (hashable) descriptions.

Each optimizer names an optax ``GradientTransformation`` (the real optax code, not a
re-implementation) and the scalar that multiplies the mini-batch gradient before it (1 except
for normalized SGD). The simulator applies ``w <- w - lr_k * tx.update(scale_k * g)``.

An optimizer whose expected risk obeys an exact per-mode recursion also describes it:
``recursion()`` returns a :class:`batchramp_theory.moments.MomentRecursion` (pure ``init`` and
``step`` over per-mode state, built from the formulas of :mod:`batchramp_theory.moments`), and
every engine (:func:`~batchramp_theory.expected_risk`, :func:`~batchramp_theory.second_moments`,
:func:`~batchramp_theory.noise_along`, :mod:`~batchramp_theory.stability`, the simulator's
``expected`` normaliser) reads it from there. Adding an optimizer with a recursion means adding
its class here, with ``transform`` and ``recursion``, and its tests (docs/architecture.md).

Being frozen dataclasses, optimizers are static arguments of the jitted drivers: one
compile per optimizer configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import optax

from ._validation import check_scalar
from .moments import (
    MomentRecursion,
    grad_norm2_from_sums,
    rsqrt_or_zero,
    sgd_factor,
    sgd_moment_step,
    variance_multiplier,
)

__all__ = ["Optimizer", "SGD", "Momentum", "NormalizedSGD", "Adam", "SignSGD", "NORMALIZERS"]

NORMALIZERS = ("sample", "conditional", "expected", "variance")

#: ``recursion(form=...)``: ``"moments"`` carries ``m_j`` (every read-out available);
#: ``"risk"`` may use a faster state that only yields the risk and the multipliers.
FORMS = ("moments", "risk")


class Optimizer:
    """Base of the optimizer descriptions (the defaults: no recursion, gradient used as drawn)."""

    has_recursion = False
    #: Whether the simulator's gradient multiplier is read from the exact recursion beforehand.
    multiplier_from_recursion = False

    def transform(self) -> optax.GradientTransformation:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def recursion(self, form: str = "moments") -> MomentRecursion:
        """The exact moment recursion (``ValueError`` if the optimizer has none)."""
        raise ValueError(f"no exact recursion exists for {self!r}; use bt.simulate (Monte Carlo) instead")

    def gradient_scale(self, g, delta, lam, sigma, batch, precomputed):
        """The scalar multiplying the sampled gradient ``g`` at ``delta = w - theta*`` (simulator)."""
        return jnp.ones((), g.dtype)

    def validate(self, problem) -> None:
        """Reject a problem on which this optimizer is undefined (default: none)."""


def _sgd_like(form: str, multiplier, name: str, lr_map=None) -> MomentRecursion:
    """The SGD recursion with a per-step gradient multiplier ``multiplier(s1, s2, batch, modes)``.

    ``s1 = sum_j w_j lambda_j m_j`` is the coupling and ``s2`` a thunk giving
    ``sum_j w_j lambda_j^2 m_j`` (evaluated only by a multiplier that needs it). ``lr_map(lr,
    batch, modes)`` is the effective SGD learning rate of a constant ``(lr, batch)`` for the
    stability criterion (``None``: ``lr`` itself).

    ``form="moments"`` carries ``m_j``. ``form="risk"`` carries each mode's share of the risk,
    ``u_j = w_j lambda_j m_j``: multiplying the SGD step by ``w_j lambda_j`` gives
    ``u_j' = q_j u_j + (eta^2 / B) w_j lambda_j^2 (s + sigma^2)`` with ``s = sum_j u_j``, so the
    coupling is a plain sum of the state. Why: a step is one elementwise pass and one reduction
    that reads ``u`` alone (32 bytes per mode-step in float64 instead of 40), and XLA:CPU emits a
    plain sum much faster than a weighted dot (2-3x at ``d = 1000``, benchmarks/RESULTS.md).
    """
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")

    def linear_map(lr, batch, modes):
        # Per-mode decay 1 - q = eta lambda (2 - eta lambda (1 + 1/B)), written without the
        # cancellation of 1 - q for small eta lambda; injection eta^2 lambda / B.
        eta = lr if lr_map is None else lr_map(lr, batch, modes)
        x = eta * modes.lam * (1 + 1 / batch)
        return (eta * modes.lam * (2 - x))[:, None, None], (eta**2 * modes.lam / batch)[:, None]

    if form == "moments":
        def init(modes):
            return modes.theta**2

        def step(m, coupling, lr, batch, modes):
            scale = multiplier(coupling, lambda: jnp.dot(modes.wlam * modes.lam, m), batch, modes)
            return sgd_moment_step(m, coupling, lr * scale, batch, modes.lam, modes.sigma), scale

        def coupling(m, modes):
            return jnp.sum(modes.wlam * m)

        def second_moment(m, modes):
            return m
    else:
        def init(modes):
            return modes.wlam * modes.theta**2

        def step(u, s, lr, batch, modes):
            scale = multiplier(s, lambda: jnp.dot(modes.lam, u), batch, modes)
            eta = lr * scale
            # Products of per-step scalars with lam and w lam: no hoisted w lambda^2 array is read.
            u = sgd_factor(eta, modes.lam, batch) * u + ((eta**2 / batch) * (s + modes.sigma**2)) * modes.lam * modes.wlam
            return u, scale

        def coupling(u, modes):
            return jnp.sum(u)

        def second_moment(u, modes):
            return u / modes.wlam

    return MomentRecursion(init, step, coupling, second_moment, linear_map, name)


def _unit_multiplier(s1, s2, batch, modes):
    return jnp.ones_like(jnp.asarray(batch))


@dataclass(frozen=True)
class SGD(Optimizer):
    """Plain mini-batch SGD: ``w <- w - lr * g``. Exact recursion: :mod:`batchramp_theory.moments`."""

    has_recursion = True

    def transform(self) -> optax.GradientTransformation:
        return optax.identity()

    def recursion(self, form: str = "moments") -> MomentRecursion:
        return _sgd_like(form, _unit_multiplier, "SGD")


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Heavy-ball momentum, optax convention: ``v <- m v + g; w <- w - lr v`` (``optax.trace``).

    Smith et al. 2017: the effective learning rate is ``lr / (1 - m)``, so the batch that
    keeps the SGD noise scale fixed grows as ``1 / (1 - m)``.

    Exact recursion on three moments per mode, ``a = E[d^2]``, ``b = E[d v]``, ``c = E[v^2]``
    (docs/recursions.md, "Heavy-ball momentum"), with the per-sample noise variance
    ``q_j = (lambda_j^2 a_j + lambda_j (S + sigma^2)) / B``:

        c' = mu^2 c + 2 mu lambda b + lambda^2 a + q
        b' = mu b + lambda a - eta c'
        a' = a - 2 eta (mu b + lambda a) + eta^2 c'
    """

    momentum: float = 0.9
    has_recursion = True

    def __post_init__(self):
        check_scalar("momentum", self.momentum, low=0.0, high=1.0, high_open=True)

    def transform(self) -> optax.GradientTransformation:
        return optax.trace(decay=self.momentum, nesterov=False)

    def recursion(self, form: str = "moments") -> MomentRecursion:
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        mu = self.momentum

        def init(modes):
            a = modes.theta**2
            return (a, jnp.zeros_like(a), jnp.zeros_like(a))

        def step(state, coupling, lr, batch, modes):
            a, b, c = state
            lam = modes.lam
            q = (lam**2 * a + lam * (coupling + modes.sigma**2)) / batch
            c_new = mu**2 * c + 2 * mu * lam * b + lam**2 * a + q
            b_new = mu * b + lam * a - lr * c_new
            a_new = a - 2 * lr * (mu * b + lam * a) + lr**2 * c_new
            return (a_new, b_new, c_new), jnp.ones_like(lr)

        def linear_map(lr, batch, modes):
            # The step above as x' = M x + v (S + sigma^2) on x = (a, b, c); returns (I - M, v).
            lam = modes.lam
            d = lam.size
            l2 = lam**2 * (1 + 1 / batch)
            row_c = np.stack([l2, 2 * mu * lam, np.full(d, mu**2)], -1)
            row_b = np.stack([lam, np.full(d, mu), np.zeros(d)], -1) - lr * row_c
            row_a = np.stack([1 - 2 * lr * lam, -2 * lr * mu * np.ones(d), np.zeros(d)], -1) + lr**2 * row_c
            m = np.stack([row_a, row_b, row_c], axis=1)
            return np.eye(3)[None] - m, (lam / batch)[:, None] * np.array([lr**2, -lr, 1.0])

        return MomentRecursion(
            init, step, lambda s, modes: jnp.sum(modes.wlam * s[0]), lambda s, modes: s[0], linear_map,
            f"Momentum({mu})",
        )


@dataclass(frozen=True)
class NormalizedSGD(Optimizer):
    """Normalized SGD, ``w <- w - lr * g / N`` (Seesaw eq. 4), with four normalisers ``N``.

    - ``"sample"``: ``N = |g|`` (the per-step sample norm; Monte Carlo only).
    - ``"conditional"``: ``N^2 = E[|g|^2 | w] = sigma^2 tr H / B + (1 + 1/B) d^T H^2 d + tr H d^T H d / B``
      with ``d = w - theta*`` (docs/equivalence.md, "P6: the NSGD normaliser", choice (c);
      Monte Carlo only).
    - ``"expected"``: ``N^2 = E|g|^2`` over data *and* iterate, a deterministic scalar
      (:func:`batchramp_theory.moments.grad_norm2_from_sums`; choice (b) of
      docs/equivalence.md, "P6: the NSGD normaliser", with the corrected cross term). Exact recursion available.
    - ``"variance"``: the variance-dominated reduced model (Seesaw eq. 7),
      ``N = sigma sqrt(tr H / B)``, i.e. SGD with ``lr_eff = lr sqrt(B) / (sigma sqrt(tr H))``.
      Exact recursion available.
    """

    normalizer: str = "expected"

    def __post_init__(self):
        if self.normalizer not in NORMALIZERS:
            raise ValueError(f"normalizer must be one of {NORMALIZERS}, got {self.normalizer!r}")

    @property
    def has_recursion(self) -> bool:
        return self.normalizer in ("expected", "variance")

    @property
    def multiplier_from_recursion(self) -> bool:
        return self.normalizer == "expected"

    def transform(self) -> optax.GradientTransformation:
        return optax.identity()

    def recursion(self, form: str = "moments") -> MomentRecursion:
        if not self.has_recursion:
            return super().recursion(form)

        # For the stability criterion both normalisers map to SGD at the variance normaliser's
        # effective rate; for "expected" that is a sufficient bound (its normaliser is never smaller).
        def lr_map(lr, batch, modes):
            return lr * variance_multiplier(batch, modes.sigma, modes.trace)

        if self.normalizer == "variance":
            def mult(s1, s2, batch, modes):
                return variance_multiplier(batch, modes.sigma, modes.trace)
        else:
            def mult(s1, s2, batch, modes):
                return 1.0 / jnp.sqrt(grad_norm2_from_sums(s1, s2(), modes.trace, modes.sigma, batch))

        return _sgd_like(form, mult, repr(self), lr_map)

    def gradient_scale(self, g, delta, lam, sigma, batch, precomputed):
        """``precomputed`` carries the per-step ``1/sqrt(E|g|^2)`` of the ``expected`` normaliser
        (from the exact recursion, before the simulation) and is ignored otherwise."""
        tr = jnp.sum(lam)
        if self.normalizer == "sample":
            n = jnp.linalg.norm(g)
            return jnp.where(n > 0, 1.0 / jnp.where(n > 0, n, 1.0), 0.0)
        if self.normalizer == "conditional":
            hd = lam * delta
            return rsqrt_or_zero(grad_norm2_from_sums(jnp.dot(hd, delta), jnp.dot(hd, hd), tr, sigma, batch))
        if self.normalizer == "variance":
            return variance_multiplier(batch, sigma, tr)
        return precomputed.astype(g.dtype)

    def validate(self, problem) -> None:
        if self.normalizer == "variance" and float(problem.noise) == 0:
            raise ValueError("NormalizedSGD('variance') needs noise > 0 (its normaliser is sigma sqrt(tr H / B))")


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam through ``optax.scale_by_adam`` (bias-corrected), then ``-lr_k`` per step.

    This is exactly ``optax.adam`` with the learning rate supplied per step by the schedule.
    Monte Carlo only.
    """

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        check_scalar("b1", self.b1, low=0.0, high=1.0, high_open=True)
        check_scalar("b2", self.b2, low=0.0, high=1.0, high_open=True)
        check_scalar("eps", self.eps, low=0.0)

    def transform(self) -> optax.GradientTransformation:
        return optax.scale_by_adam(b1=self.b1, b2=self.b2, eps=self.eps)


@dataclass(frozen=True)
class SignSGD(Optimizer):
    """Sign-SGD through ``optax.scale_by_sign``: ``w <- w - lr sign(g)``. Monte Carlo only."""

    def transform(self) -> optax.GradientTransformation:
        return optax.scale_by_sign()


def validate_for_problem(optimizer, problem) -> None:
    """Reject optimizer/problem pairs that are undefined (e.g. the variance normaliser at sigma = 0)."""
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be one of SGD, Momentum, NormalizedSGD, Adam, SignSGD; got {optimizer!r}")
    optimizer.validate(problem)


def recursion_for(optimizer, problem, form: str = "moments") -> MomentRecursion:
    """The validated exact recursion of ``optimizer`` on ``problem`` (``ValueError`` if there is none)."""
    validate_for_problem(optimizer, problem)
    return optimizer.recursion(form)
