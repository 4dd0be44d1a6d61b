"""Exact expected-risk recursions for Gaussian data (deterministic, per eigenmode).

With ``H = diag(lambda)``, ``d = w - theta*`` and ``E[x x^T A x x^T] = 2 H A H + tr(H A) H``
(Gaussian fourth moment), the diagonal of the second moment ``m_j = E[d_j^2]`` closes
exactly under one SGD step with learning rate ``eta`` and batch ``B``:

    m_j' = [(1 - eta lambda_j)^2 + eta^2 lambda_j^2 / B] m_j + (eta^2 / B) lambda_j (sum_i lambda_i m_i + sigma^2)

(Seesaw App. A.1 eq. 6 with the sigma^2 H correction; functional_scaling_law.md section 2.5).
The excess risk is ``E = 1/2 sum_j lambda_j m_j``.

A problem may carry mode weights ``w_j`` (multiplicities; a quadrature of a power-law spectrum
at ``dim = inf``, :mod:`batchramp_theory.quadrature`): node ``j`` then stands for ``w_j``
modes with the same ``lambda_j`` and ``m_j``, and every sum over modes becomes weighted,
``E = 1/2 sum_j w_j lambda_j m_j``, the coupling ``sum_j w_j lambda_j m_j``,
``tr H = sum_j w_j lambda_j``. The coupling is carried through the scan (it is twice the
previous risk), so one step is a single pass over the per-mode arrays.

Heavy-ball momentum (``v' = mu v + g``, ``d' = d - eta v'``) closes on three moments per mode,
``a = E[d^2]``, ``b = E[d v]``, ``c = E[v^2]``; with the per-sample noise variance
``q_j = (lambda_j^2 a_j + lambda_j (sum_i lambda_i a_i + sigma^2)) / B``:

    c' = mu^2 c + 2 mu lambda b + lambda^2 a + q
    b' = mu b + lambda a - eta c'
    a' = a - 2 eta (mu b + lambda a) + eta^2 c'

Normalized SGD with a deterministic normaliser is SGD with a per-step effective learning
rate: ``eta / sqrt(E|g|^2)`` (``expected``, computed from ``m`` at every step) or
``eta sqrt(B) / (sigma sqrt(tr H))`` (``variance``, Seesaw eq. 7).

Everything is one ``lax.scan`` over per-step ``(lr, batch)`` arrays: vmappable over
schedules and differentiable with ``jax.grad`` with respect to both arrays (``batch`` as a
float).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .divergence import handle_divergence
from .optimizers import SGD, Momentum, NormalizedSGD, validate_for_problem
from .problem import Problem
from .schedules import Schedule, stack_schedules
from ._validation import is_traced

__all__ = ["expected_risk", "make_risk_fn", "second_moments", "expected_grad_norm2"]


def expected_grad_norm2(m, batch, lam, sigma, weights=None):
    """``E|g|^2`` over data and iterate from the second moments ``m`` (Seesaw P6 (b), corrected).

    ``sigma^2 tr H / B + (1 + 1/B) sum lambda^2 m + tr H sum lambda m / B``; with mode
    ``weights`` ``w_j`` (a quadrature problem, :mod:`batchramp_theory.quadrature`) every sum over
    modes is ``sum_j w_j (...)``, including ``tr H = sum_j w_j lambda_j``.
    """
    return _grad_norm2(m, batch, lam, sigma, lam if weights is None else weights * lam)


def _grad_norm2(m, batch, lam, sigma, wlam):
    tr = jnp.sum(wlam)
    return sigma**2 * tr / batch + (1 + 1 / batch) * jnp.dot(wlam * lam, m) + tr * jnp.dot(wlam, m) / batch


def _sgd_moment_step(m, coupling, lr, batch, lam, sigma):
    """SGD moment step given ``coupling = sum_j w_j lambda_j m_j`` (twice the risk)."""
    # q = (1 - lr lam)^2 + lr^2 lam^2 / B, written so that only lam (no hoisted lam^2 array) is read.
    q = 1.0 + lr * lam * (lr * (1.0 + 1.0 / batch) * lam - 2.0)
    return q * m + (lr**2 / batch) * lam * (coupling + sigma**2)


def _effective_lr(optimizer, m, lr, batch, lam, sigma, wlam):
    """Per-step multiplier of the gradient (1 for SGD/momentum)."""
    if isinstance(optimizer, NormalizedSGD):
        if optimizer.normalizer == "variance":
            return jnp.sqrt(batch) / (sigma * jnp.sqrt(jnp.sum(wlam)))
        return 1.0 / jnp.sqrt(_grad_norm2(m, batch, lam, sigma, wlam))
    return jnp.ones_like(lr)


def _init_state(optimizer, theta):
    a = theta**2
    if isinstance(optimizer, Momentum):
        return (a, jnp.zeros_like(a), jnp.zeros_like(a))
    return a


def _step(optimizer, state, coupling, lr, batch, lam, sigma, wlam):
    """One exact moment step. Returns (new_state, gradient multiplier used).

    ``coupling = sum_j w_j lambda_j m_j`` at the current state is carried by the scan (it is the
    risk of the previous step), so a step reads each per-mode array once: one fused pass.
    """
    if isinstance(optimizer, Momentum):
        a, b, c = state
        mu = optimizer.momentum
        q = (lam**2 * a + lam * (coupling + sigma**2)) / batch
        c_new = mu**2 * c + 2 * mu * lam * b + lam**2 * a + q
        b_new = mu * b + lam * a - lr * c_new
        a_new = a - 2 * lr * (mu * b + lam * a) + lr**2 * c_new
        return (a_new, b_new, c_new), jnp.ones_like(lr)
    scale = _effective_lr(optimizer, state, lr, batch, lam, sigma, wlam)
    return _sgd_moment_step(state, coupling, lr * scale, batch, lam, sigma), scale


def _second_moment(optimizer, state):
    return state[0] if isinstance(optimizer, Momentum) else state


def _trajectory(lam, theta, sigma, lr, batch, *, optimizer, keep_moments=False, weights=None):
    """Scan one schedule. Returns risk ``(K+1,)``, gradient multipliers ``(K,)`` and optionally m ``(K+1, d)``.

    ``weights`` (optional, ``(d,)``): mode multiplicities of a quadrature problem; the risk and
    the coupling become ``sum_j w_j lambda_j m_j`` (``None``: every weight is 1).
    """
    wlam = lam if weights is None else weights * lam
    if not keep_moments and not isinstance(optimizer, Momentum):
        return _share_trajectory(lam, theta, sigma, lr, batch, optimizer=optimizer, weights=weights)
    state0 = _init_state(optimizer, theta)
    s0 = jnp.dot(wlam, _second_moment(optimizer, state0))

    def body(carry, inp):
        state, coupling = carry
        lr_k, b_k = inp
        state, scale = _step(optimizer, state, coupling, lr_k, b_k, lam, sigma, wlam)
        m = _second_moment(optimizer, state)
        coupling = jnp.sum(wlam * m)
        out = (0.5 * coupling, scale)
        return (state, coupling), (out + (m,)) if keep_moments else out

    _, ys = jax.lax.scan(body, (state0, s0), (lr, batch))
    risk = jnp.concatenate([(0.5 * s0)[None], ys[0]])
    if keep_moments:
        m0 = _second_moment(optimizer, state0)
        return risk, ys[1], jnp.concatenate([m0[None], ys[2]])
    return risk, ys[1]


def _share_trajectory(lam, theta, sigma, lr, batch, *, optimizer, weights=None):
    """The risk-only hot path for SGD and NSGD: the scan carries each mode's share of the risk.

    The state is ``u_j = w_j lambda_j m_j`` instead of ``m_j``. Multiplying the SGD recursion by
    ``w_j lambda_j`` gives

        u_j' = q_j u_j + (eta^2 / B) w_j lambda_j^2 (s + sigma^2),   s = sum_j u_j,

    with the same ``q_j = (1 - eta lambda_j)^2 + eta^2 lambda_j^2 / B``, so the coupling ``s``
    (twice the risk) is a plain sum of the state. Why: a step is one elementwise pass (read
    ``u`` and ``lambda``, write ``u``) and one reduction that reads ``u`` alone, 32 bytes per
    mode-step in float64 instead of 40, and XLA:CPU emits a plain sum much faster than the
    weighted dot it replaces (2-3x at ``d = 1000``, benchmarks/RESULTS.md). ``m`` itself is
    never needed here; :func:`second_moments` and momentum use the ``m`` form above, and the
    tests check both forms against each other and against dense covariance propagation.
    """
    wlam = lam if weights is None else weights * lam
    tr = jnp.sum(wlam)
    u0 = wlam * theta**2
    expected = isinstance(optimizer, NormalizedSGD) and optimizer.normalizer == "expected"

    if expected:
        scales = None  # depends on the state: computed in the scan
    elif isinstance(optimizer, NormalizedSGD):
        scales = jnp.sqrt(batch) / (sigma * jnp.sqrt(tr))
    else:
        scales = jnp.ones_like(lr)

    def body(carry, inp):
        u, s = carry
        lr_k, b_k, scale = inp
        if expected:
            # E|g|^2 = sigma^2 tr/B + (1 + 1/B) sum w lambda^2 m + tr (sum w lambda m) / B (see _grad_norm2).
            scale = 1.0 / jnp.sqrt(sigma**2 * tr / b_k + (1 + 1 / b_k) * jnp.dot(lam, u) + tr * s / b_k)
        eta = lr_k * scale
        q = 1.0 + eta * lam * (eta * (1.0 + 1.0 / b_k) * lam - 2.0)
        # Written as products of per-step scalars with lam (and w lam): no hoisted w lambda^2
        # array is read.
        u = q * u + ((eta**2 / b_k) * (s + sigma**2)) * lam * wlam
        s = jnp.sum(u)
        # Only the outputs the caller cannot compute outside the loop are written per step.
        return (u, s), ((0.5 * s, scale) if expected else 0.5 * s)

    s0 = jnp.sum(u0)
    xs = (lr, batch, jnp.zeros_like(lr) if expected else scales)
    _, ys = jax.lax.scan(body, (u0, s0), xs)
    risk, scales = ys if expected else (ys, scales)
    return jnp.concatenate([(0.5 * s0)[None], risk]), scales


@partial(jax.jit, static_argnames=("optimizer",))
def _risk_stack(lam, theta, sigma, lr, batch, *, optimizer, weights=None):
    """The jitted entry point: risks ``(S, K+1)`` and multipliers ``(S, K)`` for a stack of schedules."""
    fn = partial(_trajectory, optimizer=optimizer)
    if lr.shape[0] == 1:
        # One schedule: scan on (d,) arrays. vmap would scan on (1, d) arrays, whose reductions
        # XLA:CPU emits about 2x slower at d ~ 1000 (benchmarks/bench_recursions.py).
        risk, scale = fn(lam, theta, sigma, lr[0], batch[0], weights=weights)
        return risk[None], scale[None]
    return jax.vmap(lambda l, b: fn(lam, theta, sigma, l, b, weights=weights))(lr, batch)


def _problem_weights(problem: Problem):
    """The mode weights as a device array in the default float dtype, or ``None`` (all ones)."""
    w = getattr(problem, "weights", None)
    return None if w is None else jnp.asarray(w, jnp.zeros(()).dtype)


def _problem_arrays(problem: Problem):
    dt = jnp.zeros(()).dtype  # the default float dtype: float64 only if the caller enabled x64
    return (
        jnp.asarray(problem.eigenvalues, dt),
        jnp.asarray(problem.target, dt),
        jnp.asarray(problem.noise, dt),
    )


def _check_recursion(problem, optimizer):
    validate_for_problem(optimizer, problem)
    if not optimizer.has_recursion:
        raise ValueError(
            f"no exact recursion exists for {optimizer!r}; use bt.simulate (Monte Carlo) instead"
        )


def make_risk_fn(problem: Problem, optimizer=SGD()):
    """Factory: precompute the problem's arrays once and return ``risk_fn(lr, batch) -> (K+1,)``.

    ``risk_fn`` is pure and jittable, accepts float ``batch``, and can be vmapped over
    schedules or differentiated with ``jax.grad`` with respect to ``lr`` and ``batch`` (the
    recursion is a polynomial in both per step). No divergence handling: use
    :func:`expected_risk` for validated, user-facing calls.

    Examples:
        >>> import jax, jax.numpy as jnp, batchramp_theory as bt
        >>> p = bt.power_law_problem(50, 2.0, 0.5, noise=0.5)
        >>> f = bt.make_risk_fn(p)
        >>> g = jax.grad(lambda lr: f(lr, jnp.full(100, 4.0))[-1])(jnp.full(100, 0.3))
        >>> g.shape
        (100,)
    """
    _check_recursion(problem, optimizer)
    lam, theta, sigma = _problem_arrays(problem)
    weights = _problem_weights(problem)

    def risk_fn(lr, batch):
        lr = jnp.asarray(lr)
        batch = jnp.asarray(batch, lr.dtype)
        return _trajectory(lam, theta, sigma, lr, batch, optimizer=optimizer, weights=weights)[0]

    return risk_fn


def expected_risk(
    problem: Problem,
    schedule,
    optimizer=SGD(),
    *,
    record_steps=None,
    on_divergence: str = "raise",
):
    """Exact expected excess risk at steps ``0..K`` (the recursions in this module's docstring).

    Args:
        problem: the task.
        schedule: a :class:`Schedule`, or a sequence of them (padded with ``lr = 0`` steps to
            the longest and computed in one vmapped call).
        optimizer: ``SGD()``, ``Momentum(m)``, or ``NormalizedSGD("expected" | "variance")``.
        record_steps: optional step indices in ``[0, K]`` to return instead of every step.
        on_divergence: ``"raise"`` (default) raises :class:`DivergenceError` naming the step
            where the risk first exceeded the divergence threshold; ``"inf"`` returns the curve
            with ``inf`` from that step on and emits a ``DivergenceWarning``.

    Returns:
        ``(K+1,)`` array for one schedule, ``(S, K_max+1)`` for a sequence (or the recorded
        steps only).

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(100, 2.0, 0.5, noise=0.5)
        >>> r = bt.expected_risk(p, bt.constant(0.5, 8, steps=200))
        >>> r.shape, bool(r[-1] < r[0])
        ((201,), True)
    """
    _check_recursion(problem, optimizer)
    if isinstance(schedule, Schedule) and (is_traced(schedule.lr) or is_traced(schedule.batch)):
        return make_risk_fn(problem, optimizer)(schedule.lr, schedule.batch)
    lr, batch, steps, single = stack_schedules(schedule)
    lam, theta, sigma = _problem_arrays(problem)
    risk, _ = _risk_stack(
        lam, theta, sigma, jnp.asarray(lr, lam.dtype), jnp.asarray(batch, lam.dtype),
        optimizer=optimizer, weights=_problem_weights(problem),
    )
    risk = handle_divergence(np.asarray(risk), steps, problem, on_divergence, what="expected risk")
    return _select(risk, record_steps, lr.shape[1], single)


def gradient_multipliers(problem: Problem, lr: np.ndarray, batch: np.ndarray, optimizer) -> np.ndarray:
    """Per-step gradient multipliers ``(S, K)`` from the recursion (used for ``NormalizedSGD('expected')``)."""
    lam, theta, sigma = _problem_arrays(problem)
    _, scale = _risk_stack(
        lam, theta, sigma, jnp.asarray(lr, lam.dtype), jnp.asarray(batch, lam.dtype),
        optimizer=optimizer, weights=_problem_weights(problem),
    )
    return scale


# One module-level jit, so repeated calls with the same shapes reuse the compilation.
_moments_jit = jax.jit(_trajectory, static_argnames=("optimizer", "keep_moments"))


def second_moments(problem: Problem, schedule: Schedule, optimizer=SGD(), *, record_steps=None):
    """Exact per-mode second moments ``m_j(k) = E[(w_j - theta_j)^2]``, shape ``(K+1, d)`` or ``(n, d)``.

    The input for exact gradient-noise statistics (``B_noise``, ``B_simple``) along a run.
    Memory is ``(K+1) d`` floats.
    """
    _check_recursion(problem, optimizer)
    if not isinstance(schedule, Schedule):
        raise ValueError("second_moments takes a single Schedule")
    lam, theta, sigma = _problem_arrays(problem)
    risk, _, m = _moments_jit(
        lam, theta, sigma, jnp.asarray(schedule.lr, lam.dtype), jnp.asarray(schedule.batch, lam.dtype),
        optimizer=optimizer, keep_moments=True, weights=_problem_weights(problem),
    )
    handle_divergence(np.asarray(risk)[None], np.array([schedule.steps]), problem, "raise", what="expected risk")
    m = np.asarray(m)
    return m if record_steps is None else m[_record_index(record_steps, schedule.steps)]


def _record_index(record_steps, kmax: int) -> np.ndarray:
    idx = np.asarray(record_steps)
    if idx.ndim != 1 or idx.size == 0 or not np.all(idx == np.floor(idx)):
        raise ValueError("record_steps must be a non-empty 1-d sequence of integer steps")
    idx = idx.astype(np.int64)
    if idx.min() < 0 or idx.max() > kmax:
        raise ValueError(f"record_steps must lie in [0, {kmax}], got [{idx.min()}, {idx.max()}]")
    return idx


def _select(risk: np.ndarray, record_steps, kmax: int, single: bool) -> np.ndarray:
    if record_steps is not None:
        risk = risk[..., _record_index(record_steps, kmax)]
    return risk[0] if single else risk
