"""Optimizers, as small frozen (hashable) descriptions.

Each optimizer names an optax ``GradientTransformation`` (the real optax code, not a
re-implementation) plus, for normalized SGD, the scalar that divides the mini-batch
gradient. The simulator applies ``w <- w - lr_k * tx.update(scale_k * g)``; the exact
recursions in :mod:`batchramp_theory.recursions` exist for the optimizers with
``has_recursion = True``.

Being frozen dataclasses, optimizers are static arguments of the jitted drivers: one
compile per optimizer configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import optax

from ._validation import check_scalar

__all__ = ["SGD", "Momentum", "NormalizedSGD", "Adam", "SignSGD", "NORMALIZERS"]

NORMALIZERS = ("sample", "conditional", "expected", "variance")


@dataclass(frozen=True)
class SGD:
    """Plain mini-batch SGD: ``w <- w - lr * g``."""

    has_recursion = True

    def transform(self) -> optax.GradientTransformation:
        return optax.identity()


@dataclass(frozen=True)
class Momentum:
    """Heavy-ball momentum, optax convention: ``v <- m v + g; w <- w - lr v`` (``optax.trace``).

    Smith et al. 2017: the effective learning rate is ``lr / (1 - m)``, so the batch that
    keeps the SGD noise scale fixed grows as ``1 / (1 - m)``.
    """

    momentum: float = 0.9
    has_recursion = True

    def __post_init__(self):
        check_scalar("momentum", self.momentum, low=0.0, high=1.0, high_open=True)

    def transform(self) -> optax.GradientTransformation:
        return optax.trace(decay=self.momentum, nesterov=False)


@dataclass(frozen=True)
class NormalizedSGD:
    """Normalized SGD, ``w <- w - lr * g / N`` (Seesaw eq. 4), with four normalisers ``N``.

    - ``"sample"``: ``N = |g|`` (the per-step sample norm; Monte Carlo only).
    - ``"conditional"``: ``N^2 = E[|g|^2 | w] = sigma^2 tr H / B + (1 + 1/B) d^T H^2 d + tr H d^T H d / B``
      with ``d = w - theta*`` (Seesaw pitfall P6 (c); Monte Carlo only).
    - ``"expected"``: ``N^2 = E|g|^2`` over data *and* iterate, a deterministic scalar
      ``sigma^2 tr H / B + (1 + 1/B) sum lambda^2 m + tr H sum lambda m / B`` from the exact
      second moments ``m`` (P6 (b), corrected cross term). Exact recursion available.
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

    def transform(self) -> optax.GradientTransformation:
        return optax.identity()


@dataclass(frozen=True)
class Adam:
    """Adam through ``optax.scale_by_adam`` (bias-corrected), then ``-lr_k`` per step.

    This is exactly ``optax.adam`` with the learning rate supplied per step by the schedule.
    Monte Carlo only.
    """

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    has_recursion = False

    def __post_init__(self):
        check_scalar("b1", self.b1, low=0.0, high=1.0, high_open=True)
        check_scalar("b2", self.b2, low=0.0, high=1.0, high_open=True)
        check_scalar("eps", self.eps, low=0.0)

    def transform(self) -> optax.GradientTransformation:
        return optax.scale_by_adam(b1=self.b1, b2=self.b2, eps=self.eps)


@dataclass(frozen=True)
class SignSGD:
    """Sign-SGD through ``optax.scale_by_sign``: ``w <- w - lr sign(g)``. Monte Carlo only."""

    has_recursion = False

    def transform(self) -> optax.GradientTransformation:
        return optax.scale_by_sign()


def gradient_scale(optimizer, g, delta, lam, sigma, batch, precomputed):
    """The scalar multiplying the sampled gradient before the optax transform.

    ``precomputed`` carries the per-step ``1/sqrt(E|g|^2)`` for the ``expected`` normaliser
    (computed by the exact recursion before the simulation) and is ignored otherwise.
    """
    if not isinstance(optimizer, NormalizedSGD):
        return jnp.ones((), g.dtype)
    tr = jnp.sum(lam)
    if optimizer.normalizer == "sample":
        n = jnp.linalg.norm(g)
        return jnp.where(n > 0, 1.0 / jnp.where(n > 0, n, 1.0), 0.0)
    if optimizer.normalizer == "conditional":
        hd = lam * delta
        n2 = sigma**2 * tr / batch + (1 + 1 / batch) * jnp.dot(hd, hd) + tr * jnp.dot(hd, delta) / batch
        return jax_rsqrt(n2)
    if optimizer.normalizer == "variance":
        return jnp.sqrt(batch) / (sigma * jnp.sqrt(tr))
    return precomputed.astype(g.dtype)


def jax_rsqrt(x):
    return jnp.where(x > 0, 1.0 / jnp.sqrt(jnp.where(x > 0, x, 1.0)), 0.0)


def validate_for_problem(optimizer, problem) -> None:
    """Reject optimizer/problem pairs that are undefined (e.g. the variance normaliser at sigma = 0)."""
    if not isinstance(optimizer, (SGD, Momentum, NormalizedSGD, Adam, SignSGD)):
        raise ValueError(f"optimizer must be one of SGD, Momentum, NormalizedSGD, Adam, SignSGD; got {optimizer!r}")
    if isinstance(optimizer, NormalizedSGD) and optimizer.normalizer == "variance" and float(problem.noise) == 0:
        raise ValueError("NormalizedSGD('variance') needs noise > 0 (its normaliser is sigma sqrt(tr H / B))")
