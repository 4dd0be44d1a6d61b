"""The public seam of the exact moment recursions: per-mode state, one step, one scan driver.

With Gaussian data, ``H = diag(lambda)`` and ``d = w - theta*``, the Gaussian fourth moment
``E[x x^T A x x^T] = 2 H A H + tr(H A) H`` closes the diagonal second moments
``m_j = E[d_j^2]`` under one mini-batch step (docs/recursions.md, "SGD"; Seesaw arXiv
2510.14717 App. A.1 eq. 6 with the ``sigma^2 H`` term). For SGD with learning rate ``eta`` and
batch ``B``:

    m_j' = q_j m_j + (eta^2 / B) lambda_j (S + sigma^2),
    q_j  = (1 - eta lambda_j)^2 + eta^2 lambda_j^2 / B            (:func:`sgd_factor`),
    S    = sum_i w_i lambda_i m_i                                  (the *coupling*, twice the risk),

where ``w_j`` are mode multiplicities (all 1 except for a quadrature problem,
:mod:`batchramp_theory.quadrature`). Every optimizer with an exact recursion describes it as a
:class:`MomentRecursion`: pure ``init`` and ``step`` functions over a per-mode state (a pytree of
``(d,)`` arrays), in the optax/blackjax style, plus the read-outs the engines need. The
optimizer classes build theirs (:meth:`batchramp_theory.SGD.recursion` and friends) from the
formulas written once here:

- :func:`sgd_factor` and :func:`sgd_moment_step`: the SGD step above;
- :func:`grad_norm2_from_sums` / :func:`expected_grad_norm2`: ``E|g|^2`` over data and iterate,
  ``sigma^2 tr H / B + (1 + 1/B) sum w lambda^2 m + tr H (sum w lambda m) / B`` (docs/equivalence.md, "P6: the NSGD normaliser",
  choice (b), with the corrected cross term; docs/recursions.md, "Normalized SGD");
- :func:`variance_multiplier`: the variance-dominated normaliser of Seesaw eq. 7,
  ``sqrt(B) / (sigma sqrt(tr H))``.

:func:`final_readout` is the differentiable counterpart for optimisation: one read-out after the
first ``steps`` steps (a traced count, so one compile serves every horizon up to the array
length), with a hand-written reverse pass (segment checkpointing) that costs a fixed multiple of
the forward pass instead of autodiff's stacked residuals (benchmarks/bench_planner.py). The
planner (:mod:`batchramp_theory.planner`) optimises through it.

One scan driver, :func:`trajectory`, runs any recursion over per-step ``(lr, batch)`` arrays and
records what an ``observe`` function reads from the state at steps ``0..K``; :func:`over_schedules`
maps it over a stack of schedules. :func:`batchramp_theory.expected_risk`,
:func:`batchramp_theory.second_moments`, :func:`batchramp_theory.noise_along`, the greedy LR of
:mod:`batchramp_theory.critical_batch` and the simulator's ``expected`` normaliser all go through
it; :mod:`batchramp_theory.stability` reads each recursion's per-mode linear map, and the FSL mode
sums (:mod:`batchramp_theory.fsl`) use :func:`sgd_factor` as their exact propagator.

Adding an optimizer with a recursion: give its class a ``recursion()`` method returning a
:class:`MomentRecursion` (see docs/architecture.md); every engine then accepts it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "ModeArrays",
    "mode_arrays",
    "MomentRecursion",
    "sgd_factor",
    "sgd_moment_step",
    "grad_norm2_from_sums",
    "expected_grad_norm2",
    "variance_multiplier",
    "rsqrt_or_zero",
    "trajectory",
    "over_schedules",
    "risk_observer",
    "final_readout",
]


class ModeArrays(NamedTuple):
    """A problem's per-mode arrays, as the recursions read them.

    Attributes:
        lam: eigenvalues ``lambda_j``, ``(d,)``.
        theta: target ``theta*_j`` in the eigenbasis, ``(d,)`` (``w0 = 0``, so ``m_j(0) = theta_j^2``).
        sigma: label-noise standard deviation, a scalar.
        weights: mode multiplicities ``w_j`` (``None``: every weight is 1).
        wlam: ``w_j lambda_j`` (``lam`` itself when ``weights is None``); ``tr H = sum(wlam)``.
    """

    lam: Any
    theta: Any
    sigma: Any
    weights: Any
    wlam: Any

    @property
    def trace(self):
        """``tr H = sum_j w_j lambda_j``."""
        return self.wlam.sum()


def mode_arrays(problem, dtype=None, *, host: bool = False) -> ModeArrays:
    """The :class:`ModeArrays` of ``problem``.

    ``dtype`` defaults to JAX's default float dtype (float64 only if the caller enabled x64), so
    the same problem computes in float32 or float64 as the caller chose. ``host=True`` gives
    float64 NumPy arrays (for the host-side criteria of :mod:`batchramp_theory.stability`).
    """
    if host:
        xp, dt = np, np.float64
    else:
        xp, dt = jnp, (jnp.zeros(()).dtype if dtype is None else dtype)
    lam = xp.asarray(problem.eigenvalues, dt)
    w = getattr(problem, "weights", None)
    weights = None if w is None else xp.asarray(w, dt)
    return ModeArrays(
        lam, xp.asarray(problem.target, dt), xp.asarray(problem.noise, dt), weights,
        lam if weights is None else weights * lam,
    )


class MomentRecursion(NamedTuple):
    """An optimizer's exact moment recursion, as pure functions over a per-mode state.

    Attributes:
        init: ``init(modes) -> state`` at ``w0 = 0`` (a pytree of ``(d,)`` arrays).
        step: ``step(state, coupling, lr, batch, modes) -> (state, multiplier)``: one exact step
            at learning rate ``lr`` and (float) batch ``batch``; ``coupling`` is
            :attr:`coupling` of the input state (the driver carries it, so a step reads each
            per-mode array once); ``multiplier`` is the scalar the optimizer applied to the
            gradient (1 for SGD, ``1/sqrt(E|g|^2)`` for normalized SGD).
        coupling: ``coupling(state, modes) -> S = sum_j w_j lambda_j m_j`` (twice the excess risk).
        second_moment: ``second_moment(state, modes) -> m`` with ``m_j = E[(w_j - theta_j)^2]``.
        linear_map: ``linear_map(lr, batch, modes) -> (I - M, v)`` for a constant ``(lr, batch)``:
            the step is ``x_j' = M_j x_j + v_j (S + sigma^2)`` on a per-mode vector ``x_j`` whose
            first entry is ``m_j`` (``I - M``: ``(d, n, n)``, ``v``: ``(d, n)``; NumPy). ``I - M``
            rather than ``M``, so that a slow mode's decay ``1 - q_j`` is computed without
            cancellation. Read by :mod:`batchramp_theory.stability`; ``None`` if no stability
            criterion is known.
        name: a label for error messages.
    """

    init: Callable
    step: Callable
    coupling: Callable
    second_moment: Callable
    linear_map: Callable | None = None
    name: str = ""


# ----------------------------------------------------------------------------------------------
# The formulas, written once
# ----------------------------------------------------------------------------------------------


def sgd_factor(eta, lam, batch):
    """The SGD moment factor ``q = (1 - eta lambda)^2 + eta^2 lambda^2 / B`` (module docstring).

    Written as ``1 + eta lambda (eta (1 + 1/B) lambda - 2)`` so that a step reads ``lambda`` only
    (no hoisted ``lambda^2`` array). Plain arithmetic: works on NumPy and JAX arrays. It is also
    the exact discrete propagator of the FSL mode sums (docs/fsl.md, "The exact discrete recursion").
    """
    return 1.0 + eta * lam * (eta * (1.0 + 1.0 / batch) * lam - 2.0)


def sgd_moment_step(m, coupling, eta, batch, lam, sigma):
    """One SGD step of the second moments: ``q m + (eta^2 / B) lambda (S + sigma^2)`` with ``S = coupling``."""
    return sgd_factor(eta, lam, batch) * m + (eta**2 / batch) * lam * (coupling + sigma**2)


def grad_norm2_from_sums(s1, s2, trace, sigma, batch):
    """``E|g|^2 = sigma^2 tr H / B + (1 + 1/B) s2 + tr H s1 / B`` from ``s_p = sum_j w_j lambda_j^p m_j``.

    The mini-batch gradient's mean square over data and iterate (Gaussian fourth moment; Seesaw
    docs/equivalence.md, "P6: the NSGD normaliser", choice (b), with the corrected cross term; docs/recursions.md, "Normalized SGD").
    """
    return sigma**2 * trace / batch + (1 + 1 / batch) * s2 + trace * s1 / batch


def expected_grad_norm2(m, batch, lam, sigma, weights=None):
    """``E|g|^2`` over data and iterate from the second moments ``m`` (:func:`grad_norm2_from_sums`).

    With mode ``weights`` ``w_j`` (a quadrature problem) every sum over modes is ``sum_j w_j (...)``,
    including ``tr H = sum_j w_j lambda_j``.
    """
    wlam = lam if weights is None else weights * lam
    return grad_norm2_from_sums(jnp.dot(wlam, m), jnp.dot(wlam * lam, m), jnp.sum(wlam), sigma, batch)


def variance_multiplier(batch, sigma, trace):
    """The variance normaliser's gradient multiplier ``sqrt(B) / (sigma sqrt(tr H))`` (Seesaw eq. 7).

    Normalized SGD with it is SGD at ``lr_eff = lr sqrt(B) / (sigma sqrt(tr H))``.
    """
    # NumPy on the host (stability criteria in float64 whatever JAX's default), JAX otherwise.
    sqrt = np.sqrt if all(isinstance(a, (int, float, np.ndarray, np.generic)) for a in (batch, sigma, trace)) else jnp.sqrt
    return sqrt(batch) / (sigma * sqrt(trace))


def rsqrt_or_zero(x):
    """``1 / sqrt(x)`` for ``x > 0`` and ``0`` otherwise (a zero gradient is not rescaled)."""
    return jnp.where(x > 0, 1.0 / jnp.sqrt(jnp.where(x > 0, x, 1.0)), 0.0)


# ----------------------------------------------------------------------------------------------
# The scan driver
# ----------------------------------------------------------------------------------------------


def risk_observer(state, coupling, modes):
    """The excess risk ``1/2 S`` (the default read-out of :func:`trajectory`)."""
    return 0.5 * coupling


def trajectory(recursion: MomentRecursion, modes: ModeArrays, lr, batch, observe=risk_observer, *,
               multipliers: bool = False):
    """Run ``recursion`` over one schedule; read ``observe(state, coupling, modes)`` at steps ``0..K``.

    ``lr`` and ``batch`` are per-step ``(K,)`` arrays (``batch`` as a float, so the result is
    differentiable in it). Returns the read-outs stacked along a leading ``K+1`` axis (any pytree),
    and, with ``multipliers=True``, also the ``(K,)`` gradient multipliers the steps applied. Pure
    and jittable; vmap it (or use :func:`over_schedules`) for many schedules.
    """
    state0 = recursion.init(modes)
    c0 = recursion.coupling(state0, modes)

    def body(carry, inp):
        state, coupling = carry
        state, mult = recursion.step(state, coupling, inp[0], inp[1], modes)
        coupling = recursion.coupling(state, modes)
        y = observe(state, coupling, modes)
        return (state, coupling), ((y, mult) if multipliers else y)

    _, ys = jax.lax.scan(body, (state0, c0), (lr, batch))
    ys, mults = ys if multipliers else (ys, None)
    y0 = observe(state0, c0, modes)
    out = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([jnp.asarray(a)[None], b]), y0, ys)
    return (out, mults) if multipliers else out


def over_schedules(fn, lr, batch):
    """``fn(lr_s, batch_s)`` for every row of the ``(S, K)`` arrays, stacked on a leading ``S`` axis.

    One schedule is not vmapped: ``vmap`` would scan on ``(1, d)`` arrays, whose reductions
    XLA:CPU emits about 2x slower at ``d ~ 1000`` (benchmarks/bench_recursions.py).
    """
    if lr.shape[0] == 1:
        return jax.tree_util.tree_map(lambda x: x[None], fn(lr[0], batch[0]))
    return jax.vmap(fn)(lr, batch)


# ----------------------------------------------------------------------------------------------
# The differentiable final read-out (the planner's objective)
# ----------------------------------------------------------------------------------------------


def _masked_step(recursion):
    """One step of ``recursion`` that leaves the state unchanged at step indices ``k >= steps``."""

    def step(state, lr, batch, k, steps, modes):
        new, _ = recursion.step(state, recursion.coupling(state, modes), lr, batch, modes)
        return jax.tree_util.tree_map(lambda a, b: jnp.where(k < steps, a, b), new, state)

    return step


def _segment_states(step, state, lr, batch, ks, steps, modes):
    """The states before each step of one segment (a fixed-length scan), and the state after it."""

    def body(st, x):
        return step(st, x[0], x[1], x[2], steps, modes), st

    return jax.lax.scan(body, state, (lr, batch, ks))


def final_readout(recursion: MomentRecursion, modes: ModeArrays, lr, batch, steps, readout=risk_observer, *,
                  segment: int = 64):
    """``readout(state_K, coupling_K, modes)`` after the first ``steps`` entries of ``lr`` and ``batch``.

    Differentiable in ``lr`` and ``batch`` (``jax.grad``; a ``custom_vjp``). ``steps`` may be a
    traced integer ``<= len(lr)``: the loops run ``ceil(steps / segment)`` segments of
    ``segment`` steps (entries at ``k >= steps`` are no-ops), so one compile serves every horizon
    and the cost is proportional to ``steps``, not to the array length. ``len(lr)`` must be a
    multiple of ``segment``.

    Why a hand-written reverse pass: reverse-mode autodiff through the scan stacks every
    intermediate of every step and, on XLA:CPU, was about 45x the forward pass at ``d = 1000``
    (benchmarks/bench_planner.py). Here the forward pass stores only the state at each segment
    start; the reverse pass recomputes one segment's states (a cheap forward scan), then runs
    the per-step VJP of ``recursion.step`` backwards through them. Memory is
    ``len(lr) / segment + segment`` states. The gradient is exact (the same chain rule), checked
    against finite differences and against ``jax.grad`` of :func:`trajectory`
    (tests/test_planner.py).
    """
    n = lr.shape[0]
    if n % segment:
        raise ValueError(f"len(lr) = {n} must be a multiple of segment = {segment}")
    n_seg = n // segment
    step = _masked_step(recursion)
    ks_all = jnp.arange(n).reshape(n_seg, segment)

    def forward(lr, batch, steps, modes):
        lr2, b2 = lr.reshape(n_seg, segment), batch.reshape(n_seg, segment)
        active = (steps + segment - 1) // segment
        state0 = recursion.init(modes)
        starts = jax.tree_util.tree_map(lambda a: jnp.zeros((n_seg,) + a.shape, a.dtype), state0)

        def body(i, carry):
            st, starts = carry
            starts = jax.tree_util.tree_map(lambda buf, a: buf.at[i].set(a), starts, st)
            st, _ = _segment_states(step, st, lr2[i], b2[i], ks_all[i], steps, modes)
            return st, starts

        state, starts = jax.lax.fori_loop(0, active, body, (state0, starts))
        return state, starts

    def read(state, modes):
        return readout(state, recursion.coupling(state, modes), modes)

    @jax.custom_vjp
    def f(lr, batch, steps, modes):
        return read(forward(lr, batch, steps, modes)[0], modes)

    def f_fwd(lr, batch, steps, modes):
        state, starts = forward(lr, batch, steps, modes)
        return read(state, modes), (state, starts, lr, batch, steps, modes)

    def f_bwd(res, g):
        state, starts, lr, batch, steps, modes = res
        lr2, b2 = lr.reshape(n_seg, segment), batch.reshape(n_seg, segment)
        active = (steps + segment - 1) // segment
        (p,) = jax.vjp(lambda s: read(s, modes), state)[1](g)

        def body(j, carry):
            p, glr, gb = carry
            i = active - 1 - j
            st0 = jax.tree_util.tree_map(lambda buf: buf[i], starts)
            _, sts = _segment_states(step, st0, lr2[i], b2[i], ks_all[i], steps, modes)

            def back(p, x):
                st, l, b, k = x
                _, vjp = jax.vjp(lambda s, l_, b_: step(s, l_, b_, k, steps, modes), st, l, b)
                ps, gl, gbb = vjp(p)
                return ps, (gl, gbb)

            p, (gl, gbb) = jax.lax.scan(back, p, (sts, lr2[i], b2[i], ks_all[i]), reverse=True)
            return p, glr.at[i].set(gl), gb.at[i].set(gbb)

        zeros = jnp.zeros_like(lr2)
        _, glr, gb = jax.lax.fori_loop(0, active, body, (p, zeros, jnp.zeros_like(b2)))
        no_steps = np.zeros(np.shape(steps), dtype=jax.dtypes.float0)
        return glr.reshape(n), gb.reshape(n), no_steps, jax.tree_util.tree_map(jnp.zeros_like, modes)

    f.defvjp(f_fwd, f_bwd)
    return f(lr, batch, jnp.asarray(steps, jnp.int32), modes)
