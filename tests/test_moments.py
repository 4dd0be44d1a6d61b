"""The public recursion seam (batchramp_theory.moments): forms agree, and a new optimizer plugs in.

The second test is the contract of the seam: an optimizer defined outside the package, by a
class with ``transform`` and ``recursion`` only, is accepted by every engine (exact risk,
second moments, noise statistics, stability, Monte Carlo) with no change to them.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import batchramp_theory as bt
from batchramp_theory.moments import (
    MomentRecursion,
    expected_grad_norm2,
    mode_arrays,
    sgd_factor,
    sgd_moment_step,
    trajectory,
)

P = bt.power_law_problem(40, 2.0, 0.5, noise=0.5)
RAMP = bt.constant(0.4, 2, 60) + bt.constant(0.4, 8, 40)


@pytest.mark.parametrize("opt", [bt.SGD(), bt.NormalizedSGD("expected"), bt.NormalizedSGD("variance")])
def test_risk_form_equals_moment_form(opt):
    """The hot path's per-mode risk shares u_j = w lambda m give the same risk as the m form (1e-12)."""
    modes = mode_arrays(P)
    lr, b = jnp.asarray(RAMP.lr), jnp.asarray(RAMP.batch, jnp.float64)
    fast, mult_fast = trajectory(opt.recursion("risk"), modes, lr, b, multipliers=True)
    slow, mult_slow = trajectory(opt.recursion("moments"), modes, lr, b, multipliers=True)
    np.testing.assert_allclose(fast, slow, rtol=1e-12)
    np.testing.assert_allclose(mult_fast, mult_slow, rtol=1e-12)


def test_formulas_against_first_principles():
    """sgd_factor and E|g|^2 against their expanded definitions, on NumPy and JAX inputs."""
    lam = np.array([1.0, 0.3, 1e-4])
    eta, batch = 0.7, 3.0
    q = (1 - eta * lam) ** 2 + eta**2 * lam**2 / batch
    np.testing.assert_allclose(sgd_factor(eta, lam, batch), q, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(sgd_factor(eta, jnp.asarray(lam), batch)), q, rtol=1e-14)
    m, sigma = np.array([0.5, 2.0, 1.0]), 0.3
    tr = lam.sum()
    g2 = sigma**2 * tr / batch + (1 + 1 / batch) * np.sum(lam**2 * m) + tr * np.sum(lam * m) / batch
    np.testing.assert_allclose(float(expected_grad_norm2(jnp.asarray(m), batch, jnp.asarray(lam), sigma)), g2, rtol=1e-14)
    s = np.sum(lam * m)
    np.testing.assert_allclose(
        sgd_moment_step(m, s, eta, batch, lam, sigma), q * m + eta**2 / batch * lam * (s + sigma**2), rtol=1e-14
    )


@dataclass(frozen=True)
class ScaledSGD(bt.Optimizer):
    """A new optimizer written against the seam only: SGD whose step is ``c`` times the gradient."""

    c: float = 0.5
    has_recursion = True

    def transform(self):
        return optax.identity()

    def gradient_scale(self, g, delta, lam, sigma, batch, precomputed):
        return jnp.asarray(self.c, g.dtype)

    def recursion(self, form="moments"):
        c = self.c

        def step(m, coupling, lr, batch, modes):
            return sgd_moment_step(m, coupling, c * lr, batch, modes.lam, modes.sigma), c * jnp.ones_like(lr)

        def linear_map(lr, batch, modes):
            eta = c * lr
            x = eta * modes.lam * (1 + 1 / batch)
            return (eta * modes.lam * (2 - x))[:, None, None], (eta**2 * modes.lam / batch)[:, None]

        return MomentRecursion(
            init=lambda modes: modes.theta**2,
            step=step,
            coupling=lambda m, modes: jnp.sum(modes.wlam * m),
            second_moment=lambda m, modes: m,
            linear_map=linear_map,
            name="ScaledSGD",
        )


def test_new_optimizer_through_every_engine():
    opt, c = ScaledSGD(0.5), 0.5
    twin = bt.Schedule(RAMP.lr * c, RAMP.batch)  # SGD at lr * c is the same process
    np.testing.assert_allclose(bt.expected_risk(P, RAMP, opt), bt.expected_risk(P, twin), rtol=1e-12)
    np.testing.assert_allclose(bt.second_moments(P, RAMP, opt), bt.second_moments(P, twin), rtol=1e-12)
    np.testing.assert_allclose(bt.noise_along(P, RAMP, opt).b_noise, bt.noise_along(P, twin).b_noise, rtol=1e-12)
    assert bt.stability_limit(P, 4, opt) == pytest.approx(bt.stability_limit(P, 4) / c, rel=1e-12)
    assert bt.is_stable(P, 0.99 * bt.stability_limit(P, 4, opt), 4, opt)
    assert not bt.is_stable(P, 1.01 * bt.stability_limit(P, 4, opt), 4, opt)
    # Monte Carlo: the same keys, the gradient scaled by c before the step: lr * (c g) = (lr c) g.
    mc = bt.simulate(P, RAMP, opt, num_runs=4, seed=1)
    np.testing.assert_allclose(mc, bt.simulate(P, twin, num_runs=4, seed=1), rtol=1e-10)
    # Negative control: a different c is a different process.
    assert not np.allclose(bt.expected_risk(P, RAMP, ScaledSGD(0.6)), bt.expected_risk(P, twin), rtol=1e-3)


def test_recursion_refused_where_none_exists():
    for opt in (bt.Adam(), bt.SignSGD(), bt.NormalizedSGD("sample")):
        with pytest.raises(ValueError, match="no exact recursion"):
            opt.recursion()
    with pytest.raises(ValueError, match="form"):
        bt.SGD().recursion("fast")


def test_driver_reads_any_observable_and_differentiates():
    """trajectory's observe hook reads any pytree from the state; the driver is differentiable in lr and batch."""
    rec, modes = bt.Momentum(0.5).recursion(), mode_arrays(P)
    lr, b = jnp.full(30, 0.2), jnp.full(30, 4.0)
    risk, top = trajectory(rec, modes, lr, b, lambda s, cpl, md: (0.5 * cpl, rec.second_moment(s, md)[0]))
    assert risk.shape == (31,) and top.shape == (31,)
    np.testing.assert_allclose(risk, bt.expected_risk(P, bt.constant(0.2, 4, 30), bt.Momentum(0.5)), rtol=1e-12)
    f = lambda x: trajectory(bt.SGD().recursion("risk"), modes, lr * x, b * x)[-1]  # noqa: E731
    g = jax.grad(f)(1.0)
    fd = (f(1.0 + 1e-6) - f(1.0 - 1e-6)) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-6)
