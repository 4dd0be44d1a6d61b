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

The sampler is split in two so that a simulator can draw the three Gram scalars of a whole
chunk of steps in one vectorised call (:func:`gram_statistics`) and keep only the ``d``
normals inside its time loop (:func:`gradient_from_gram`); :func:`sample_gradient` is the
composition of the two, with the same key derivation, so both routes give the same law
(and, up to floating-point reassociation, the same numbers).

Chi-square draws (``chi2_k = 2 Gamma(k/2)``) use the Marsaglia-Tsang (2000) rejection method,
vectorised: ``_TRIALS`` proposals per variate are drawn up front and the first accepted one
is kept; the rare variates that reject all of them are redrawn in a masked loop over only the
rejected entries. Taking the first accepted proposal of an i.i.d. proposal sequence is exactly
rejection sampling, so the draws are exact in distribution; shapes ``k/2 < 1`` use
``Gamma(a) = Gamma(a + 1) U^(1/a)`` (Marsaglia-Tsang section 6). Unlike
``jax.random.gamma`` (one ``while_loop`` per variate), this never loops per element.

The explicit ``B x d`` sampler is kept as the reference (tests) and for non-Gaussian
(Rademacher) features, where the shortcut does not apply.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["sample_gradient", "sample_gradient_explicit", "sample_gradient_rows", "gram_statistics", "gradient_from_gram", "chi2"]

# Proposals drawn up front per chi-square variate. Marsaglia-Tsang accepts a proposal with
# probability >= 0.951 for every shape >= 1, so two proposals leave < 0.25% of the variates
# to the (vectorised, masked) redraw loop.
_TRIALS = 2


def _mt_accept(x, u, dd, c):
    """Marsaglia-Tsang test for shape ``dd + 1/3`` with normal ``x``, uniform ``u``: (accept, value)."""
    y = c * x
    v = (1.0 + y) ** 3
    # log v = 3 log1p(y); 1 - v + log v is computed as written (its O(y) terms cancel, but
    # every term is O(y) with y small, so the float32 error stays far below the spread of log u).
    ok = (y > -1.0) & (jnp.log(u) < 0.5 * x * x + dd * (1.0 - v + 3.0 * jnp.log1p(jnp.where(y > -1.0, y, 0.0))))
    return ok, dd * v


def _mt_constants(dof):
    """Shape ``a = dof/2``, whether it is boosted (``a < 1``), and Marsaglia-Tsang's ``d, c``."""
    a = dof / 2.0
    boost = a < 1.0
    dd = jnp.where(boost, a + 1.0, a) - 1.0 / 3.0
    return a, boost, dd, 1.0 / jnp.sqrt(9.0 * dd)


def _first_accepted(x, u, dd, c):
    """Over the last axis of proposals ``(x, u)``: the first accepted value and whether any was."""
    val = jnp.zeros(jnp.broadcast_shapes(x.shape[:-1], jnp.shape(dd)), dd.dtype)
    acc = jnp.zeros(val.shape, bool)
    for t in range(x.shape[-1]):  # unrolled: keep the first accepted proposal
        ok, v = _mt_accept(x[..., t], u[..., t], dd, c)
        val = jnp.where(acc | ~ok, val, v)
        acc = acc | ok
    return val, acc


def _unit_floats(bits, dtype):
    """Uniform floats in ``[0, 1)`` from random bits (the mantissa trick of ``jax.random.uniform``)."""
    info = jnp.finfo(dtype)
    one = jax.lax.bitcast_convert_type(jnp.asarray(1.0, dtype), bits.dtype)
    mant = jax.lax.shift_right_logical(bits, jnp.asarray(info.bits - info.nmant, bits.dtype))
    return jax.lax.bitcast_convert_type(mant | one, dtype) - 1.0


def _normals(unit, dtype):
    """Standard normals from ``[0, 1)`` uniforms by inversion (as ``jax.random.normal`` does)."""
    lo = jnp.nextafter(jnp.asarray(-1.0, dtype), jnp.asarray(0.0, dtype))
    u = jnp.maximum(lo, 2.0 * unit - 1.0)
    return jnp.sqrt(jnp.asarray(2.0, dtype)) * jax.lax.erf_inv(u)


def _uniform_words(key, n, dtype):
    """``n`` uniforms in ``[0, 1)`` from one key: a single threefry call (cheap to compile and run).

    The call draws the next power of two of words and drops the rest: XLA:CPU compiles a short
    threefry call of odd length several times slower (1.5 s against 0.45 s for 11 against 16
    words, measured), which would add seconds to every simulator compilation.
    """
    width = jnp.finfo(dtype).bits
    m = 1 << max(0, (n - 1).bit_length())
    bits = jax.random.bits(key, (m,), jnp.uint64 if width == 64 else jnp.uint32)
    return _unit_floats(bits[:n], dtype)


def _proposals(key, trials, dtype):
    """``trials`` Marsaglia-Tsang proposals (normal, uniform) from one key."""
    w = _uniform_words(key, 2 * trials, dtype)
    return _normals(w[:trials], dtype), w[trials:]


def _chi2_core(x, u, ub, dof, redraw_keys, stream=0):
    """Chi-square variates from up-front proposals, with an exact masked redraw of rejections.

    ``x, u``: ``(*P, T)`` normal and uniform proposals; ``ub``: ``P`` boost uniforms;
    ``redraw_keys``: ``P`` keys reserved for redraws (the ``r``-th redraw of an entry of stream
    ``i`` uses ``fold_in(key, 2 r + i)``; ``stream`` broadcasts with ``P``, default 0). The count
    is kept per entry, not per round of the loop, so an entry's value never depends on how many
    other entries were drawn with it (a chunk of steps drawn whole or in blocks gives the same bits);
    ``dof`` broadcasts with ``P``. Returns an array of shape ``broadcast(P, dof.shape)``.
    """
    trials = x.shape[-1]
    a, boost, dd, c = _mt_constants(dof)
    shape = jnp.broadcast_shapes(ub.shape, dof.shape)
    val, acc = _first_accepted(x, u, dd, c)
    # A non-finite dof can never be accepted: let it through (as NaN) instead of looping forever.
    acc = acc | ~jnp.isfinite(dd)

    val, acc = val.reshape(-1), acc.reshape(-1)
    n = val.shape[0]
    keys_b = jnp.broadcast_to(redraw_keys, shape).reshape(-1)
    stream_b = jnp.broadcast_to(jnp.asarray(stream, jnp.uint32), shape).reshape(-1)
    dd_b = jnp.broadcast_to(dd, shape).reshape(-1)
    c_b = jnp.broadcast_to(c, shape).reshape(-1)
    # Rejected after T proposals: < 0.25% of entries for T = 2; 1/32 of the entries fit per round.
    slots = min(n, max(16, n // 32))

    def redraw(k, st, d_, c_, cnt):
        xr, ur = _proposals(jax.random.fold_in(k, 2 * cnt + st), trials, dd.dtype)
        return _first_accepted(xr, ur, d_, c_)

    def body(state):
        val, acc, cnt = state
        # The first `slots` rejected entries, by a cumulative-sum compaction (as fast as
        # jnp.nonzero at run time, cheaper to compile); unused slots hold n and are dropped.
        rej = ~acc
        pos = jnp.cumsum(rej.astype(jnp.int32)) - 1
        tgt = jnp.where(rej & (pos < slots), pos, slots)
        idx = jnp.full((slots,), n, jnp.int32).at[tgt].set(jnp.arange(n, dtype=jnp.int32), mode="drop")
        safe = jnp.minimum(idx, n - 1)
        v_new, ok = jax.vmap(redraw)(keys_b[safe], stream_b[safe], dd_b[safe], c_b[safe], cnt[safe])
        val = val.at[idx].set(jnp.where(ok, v_new, val[safe]), mode="drop")
        acc = acc.at[idx].set(ok, mode="drop")
        return val, acc, cnt.at[idx].add(1, mode="drop")

    val, _, _ = jax.lax.while_loop(lambda st: jnp.any(~st[1]), body, (val, acc, jnp.zeros((n,), jnp.uint32)))
    val = jnp.where(jnp.isfinite(dd_b), val, jnp.nan)
    g = val.reshape(shape) * jnp.where(boost, ub ** (1.0 / jnp.where(boost, a, 1.0)), 1.0)
    return jnp.where(dof > 0, 2.0 * g, 0.0)


def _float_dof(dof, dtype=None):
    dof = jnp.asarray(dof)
    if dtype is not None:
        return dof.astype(dtype)
    return dof if jnp.issubdtype(dof.dtype, jnp.floating) else dof.astype(jnp.zeros(()).dtype)


def _vmap_keys(fn, key):
    """Apply ``fn(scalar key) -> pytree`` to a key array of any shape."""
    out = jax.vmap(fn)(key.reshape(-1))
    return jax.tree_util.tree_map(lambda v: v.reshape(jnp.shape(key) + v.shape[1:]), out)


def chi2(key, dof, *, trials: int = _TRIALS):
    """Exact chi-square variates ``chi2_dof = 2 Gamma(dof/2)``, vectorised over keys and ``dof``.

    Marsaglia-Tsang rejection, vectorised (see the module docstring); exact in distribution.

    Args:
        key: a PRNG key array of any shape ``K``.
        dof: float array broadcastable with ``K``; ``dof = 0`` gives exactly 0. May be traced
            (a changing batch never recompiles) and need not be an integer.
        trials: Marsaglia-Tsang proposals drawn up front per variate (speed only: the law does
            not depend on it).

    Returns:
        Array of shape ``broadcast(K, dof.shape)`` and the dtype of ``dof``. Entries sharing a
        key share their proposals (common random numbers across ``dof``).
    """
    dof = _float_dof(dof)
    dt = dof.dtype

    def draw(k):
        kp, kr = jax.random.split(k)  # proposals | redraws: independent streams
        w = _uniform_words(kp, 2 * trials + 1, dt)
        return _normals(w[:trials], dt), w[trials : 2 * trials], w[2 * trials], kr

    x, u, ub, kr = _vmap_keys(draw, key)
    return _chi2_core(x, u, ub, dof, kr)


def gram_statistics(key, batch, dtype=None):
    """The Gram matrix ``(a.a, a.n, n.n)`` of ``B`` i.i.d. standard Gaussian pairs ``(a_i, n_i)``.

    Bartlett decomposition of ``Wishart_2(I, B)``: ``a.a = c1^2``, ``a.n = c1 z``,
    ``n.n = z^2 + c2^2`` with ``c1^2 ~ chi2_B``, ``c2^2 ~ chi2_{B-1}``, ``z ~ N(0, 1)``
    independent. Vectorised: ``key`` is a key array of shape ``K`` and ``batch`` broadcasts
    with it; entries sharing a key share their random numbers (common random numbers across
    schedules). All scalars of one key come from a single threefry call (the proposals of both
    chi-squares, the two boost uniforms and ``z``), which keeps this part cheap next to the
    ``d`` normals of a step, and cheap to compile.
    """
    batch = _float_dof(batch, dtype)
    dt = batch.dtype
    t = _TRIALS

    def draw(k):
        kp, kr = jax.random.split(k)  # proposals | redraws: independent streams
        w = _uniform_words(kp, 4 * t + 3, dt)
        # w: [normals for c1 (t), c2 (t), z (1)] [uniforms for c1 (t), c2 (t)] [boost (2)]
        x = _normals(w[: 2 * t + 1], dt)
        return x, w[2 * t + 1 : 4 * t + 1], w[4 * t + 1 :], kr

    x, u, ub, kr = _vmap_keys(draw, key)
    # Align key-shaped arrays and the batch on the same number of axes, then stack the two
    # chi-squares on a new leading axis: one vectorised pass and one redraw loop.
    nd = max(key.ndim, batch.ndim)
    kshape = (1,) * (nd - key.ndim) + jnp.shape(key)
    x, u = x.reshape(kshape + x.shape[-1:]), u.reshape(kshape + u.shape[-1:])
    ub, kr = ub.reshape(kshape + (2,)), kr.reshape(kshape)
    batch = batch.reshape((1,) * (nd - batch.ndim) + batch.shape)
    xs = jnp.stack([x[..., :t], x[..., t : 2 * t]])
    us = jnp.stack([u[..., :t], u[..., t : 2 * t]])
    # chi2 with B - 1 = 0 degrees of freedom is exactly 0 (batch of one).
    dofs = jnp.stack([batch, jnp.maximum(batch - 1.0, 0.0)])
    stream = jnp.arange(2, dtype=jnp.uint32).reshape((2,) + (1,) * nd)
    c1sq, c2sq = _chi2_core(xs, us, jnp.moveaxis(ub, -1, 0), dofs, kr[None], stream)
    z = x[..., 2 * t]
    return c1sq, jnp.sqrt(c1sq) * z, z * z + c2sq


def gradient_from_gram(key, eigenvalues, delta, batch, noise, aa, an, nn, unorm2=None):
    """The gradient given the Gram scalars ``(a.a, a.n, n.n)``: ``d`` normals from ``key``, O(d) work.

    Written as ``g = (|r| sqrt(lambda) xi + c lambda d) / B`` with the scalar
    ``c = (a.r - |r| zeta) / |u|``, ``zeta = e . xi`` (the projection off ``e`` folded into ``c``),
    so that a step is one reduction fused with the draw of ``xi`` and one elementwise pass.
    ``unorm2 = |u|^2 = sum_j lambda_j d_j^2`` (twice the current risk) may be passed in when the
    caller already has it (the simulator carries it), saving a reduction.
    """
    dtype = delta.dtype
    lam = eigenvalues.astype(dtype)
    batch = jnp.asarray(batch, dtype)
    sigma = jnp.asarray(noise, dtype)
    sqrt_lam = jnp.sqrt(lam)
    u = sqrt_lam * delta
    unorm2 = jnp.dot(u, u) if unorm2 is None else jnp.asarray(unorm2, dtype)
    unorm = jnp.sqrt(unorm2)
    xi = jax.random.normal(key, u.shape, dtype)
    a_dot_r = unorm * aa - sigma * an
    r_sq = unorm2 * aa - 2.0 * sigma * unorm * an + sigma**2 * nn
    r_norm = jnp.sqrt(jnp.maximum(r_sq, 0.0))
    # e = u/|u|; at u = 0 any unit vector will do (module docstring): e_1. The direction is
    # chosen elementwise (u itself, or e_1 when u = 0) rather than by branching on xi[0]: a
    # scalar read of xi made XLA:CPU generate xi in a second fusion, which cost ~40% of a
    # simulator step at d = 64 (benchmarks/RESULTS.md (b)). For u != 0 the numbers are unchanged.
    nonzero = unorm > 0
    v = jnp.where(nonzero, u, (jnp.arange(u.shape[0]) == 0).astype(dtype))  # |u| e
    inv = 1.0 / jnp.where(nonzero, unorm, 1.0)  # 1 / |v|
    zeta = jnp.dot(v, xi) * inv
    coef = a_dot_r - r_norm * zeta  # the component of B g / sqrt(lambda) along e
    return sqrt_lam * (r_norm * xi + (coef * inv) * v) / batch


def split_step_key(key):
    """The two independent streams of one step: (Gram scalars, the ``d`` normals)."""
    return jax.random.split(key)


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
    k_gram, k_xi = split_step_key(key)
    aa, an, nn = gram_statistics(k_gram, batch, delta.dtype)
    return gradient_from_gram(k_xi, eigenvalues, delta, batch, noise, aa, an, nn)


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


def sample_gradient_rows(key, features, residuals, delta, batch, *, max_batch: int):
    """True SGD on a data set: ``(1/B) sum_i f_i (f_i^T delta - e_i)`` over ``B`` rows drawn with replacement.

    ``features`` are the ``(n, d)`` rows in the problem's eigenbasis and ``residuals`` their
    least-squares residuals (a :class:`batchramp_theory.data.RowSample`), so with
    ``delta = w - theta`` the residual of row ``i`` is ``f_i^T w - y_i = f_i^T delta - e_i``
    (docs/problems.md, "From data"). ``max_batch`` indices are drawn uniformly from ``key`` and
    rows ``>= batch`` are masked, as in :func:`sample_gradient_explicit`; cost ``O(max_batch d)``
    per step (the simulator passes the largest batch of the schedules it runs).
    """
    dtype = delta.dtype
    idx = jax.random.randint(key, (max_batch,), 0, features.shape[0])
    x = features[idx].astype(dtype)
    e = residuals[idx].astype(dtype)
    batch = jnp.asarray(batch, dtype)
    mask = (jnp.arange(max_batch) < batch).astype(dtype)
    resid = (x @ delta - e) * mask
    return x.T @ resid / batch
