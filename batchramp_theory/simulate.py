"""Monte Carlo simulation of one-pass mini-batch optimizers on noisy linear regression.

One jitted entry point (:func:`_chunk`) advances many runs at once: vmapped over seeds
(inner) and over a stack of schedules (outer), scanning over a fixed-length chunk of
steps. :func:`simulate` calls it repeatedly on consecutive chunks, so memory stays bounded,
a progress bar can advance between chunks, and a repeated call with the same shapes never
recompiles.

Randomness: ``seed`` (an int or a JAX key) is split into one key per run, and step ``k``
of a run uses ``fold_in(run_key, k)``. All stacked schedules share the run keys (common
random numbers), so differences between schedules are measured with far less noise, and a
run's first ``k`` steps do not depend on how long the schedule is.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import check_int, record_index
from .divergence import handle_divergence
from .moments import mode_arrays
from .optimizers import SGD, validate_for_problem
from .placement import LOCAL, pad_rows
from .problem import Problem
from .recursions import gradient_multipliers
from .sampler import gradient_from_gram, gram_statistics, sample_gradient_explicit, sample_gradient_rows, split_step_key
from .schedules import stack_schedules

__all__ = ["simulate"]

# Cap on schedules x runs x chunk steps per jitted call: bounds host memory (the returned risks)
# and device memory (the chunk keeps keys, three Gram scalars and a risk per (schedule, run,
# step): ~6 words, ~12 MB at this cap in float64; benchmarks/bench_memory.py).
_CHUNK_BUDGET = 1 << 18
# Gram scalars drawn per block inside a chunk (schedules x runs x steps): small enough that the
# block's random words and rejection temporaries (~46 words per entry) stay in cache
# (see _keys_and_gram).
_GRAM_BLOCK = 1 << 15


def _as_key(seed):
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array) and jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    if isinstance(seed, jax.Array) and seed.dtype == jnp.uint32 and seed.shape == (2,):
        return jax.random.wrap_key_data(seed)
    raise ValueError(f"seed must be an int or a JAX PRNG key, got {seed!r}")


@partial(jax.jit, static_argnames=("optimizer", "sampler", "max_batch", "features"))
def _chunk(delta, opt_state, run_keys, lam, sigma, lr, batch, mult, k0, rows=None, *, optimizer, sampler, max_batch,
           features):
    """Advance ``(S, R)`` runs by ``C`` steps; returns new state and risks ``(S, R, C)``.

    ``delta`` is ``w - theta*`` with shape ``(S, R, d)``; ``lr, batch, mult`` are ``(S, C)``;
    ``k0`` is the global index of the chunk's first step.

    With the exact sampler, the three Gram scalars of every (schedule, run, step) of the chunk
    are drawn first, vectorised over blocks of steps (:func:`_keys_and_gram`, no per-step
    loop), and the time loop draws only the ``d`` normals per step: the same keys and law as
    calling :func:`sample_gradient` at every step.
    """
    tx = optimizer.transform()
    n_steps = lr.shape[1]
    if sampler == "exact":
        k_draw, gram = _keys_and_gram(run_keys, batch, k0, lam.dtype)

        def draw(key, delta, b_k, extra, unorm2):
            return gradient_from_gram(key, lam, delta, b_k, sigma, *extra, unorm2=unorm2)
    elif sampler == "rows":
        # True SGD on a data set's rows (``rows = (features, residuals)``, eigenbasis).
        k_draw, gram = _step_keys(run_keys, k0 + jnp.arange(n_steps)), ()

        def draw(key, delta, b_k, extra, unorm2):
            return sample_gradient_rows(key, rows[0], rows[1], delta, b_k, max_batch=max_batch)
    else:
        # (R, C) step keys: step k of a run always uses fold_in(run_key, k).
        k_draw, gram = _step_keys(run_keys, k0 + jnp.arange(n_steps)), ()

        def draw(key, delta, b_k, extra, unorm2):
            return sample_gradient_explicit(key, lam, delta, b_k, sigma, max_batch=max_batch, features=features)

    def one_run(delta, state, keys, lr_s, b_s, mult_s, gram_sr):
        # sum_j lambda_j delta_j^2 (twice the risk) is carried: the sampler needs it as |u|^2,
        # and it is the risk the step records, so each step computes it once.
        def body(carry, inp):
            delta, state, unorm2 = carry
            key, lr_k, b_k, mult_k, extra = inp
            g = draw(key, delta, b_k, extra, unorm2)
            g = g * optimizer.gradient_scale(g, delta, lam, sigma, b_k, mult_k)
            upd, state = tx.update(g, state)
            delta = delta - lr_k * upd
            unorm2 = jnp.sum(lam * (delta * delta))
            return (delta, state, unorm2), 0.5 * unorm2

        carry0 = (delta, state, jnp.sum(lam * (delta * delta)))
        (delta, state, _), risks = jax.lax.scan(body, carry0, (keys, lr_s, b_s, mult_s, gram_sr))
        return delta, state, risks

    over_runs = jax.vmap(one_run, in_axes=(0, 0, 0, None, None, None, 0))
    if lr.shape[0] == 1:
        # One schedule: no vmap over a size-1 axis. Under it the step's normals, shared by the
        # schedules, are broadcast into (1, R, d) consumers, and XLA:CPU then materialises
        # them in three passes instead of fusing the draw into its use (measured at d = 64,
        # 256 runs: 0.43 s against 0.29 s per 1000 steps; the bits are the same).
        first = partial(jax.tree_util.tree_map, lambda x: x[0])
        out = over_runs(first(delta), first(opt_state), k_draw, lr[0], batch[0], mult[0], first(gram))
        return jax.tree_util.tree_map(lambda x: x[None], out)
    over_scheds = jax.vmap(over_runs, in_axes=(0, 0, None, 0, 0, 0, 0))
    return over_scheds(delta, opt_state, k_draw, lr, batch, mult, gram)


def _step_keys(run_keys, steps):
    """``(R, C)`` keys: step ``k`` of run ``r`` always uses ``fold_in(run_keys[r], k)``."""
    return jax.vmap(lambda rk: jax.vmap(partial(jax.random.fold_in, rk))(steps))(run_keys)


def _keys_and_gram(run_keys, batch, k0, dtype):
    """The ``(R, C)`` keys of the ``d`` normals and the ``(S, R, C)`` Gram scalars of a chunk.

    Each step key is split into (Gram, normals) exactly as :func:`sample_gradient` does. The
    Gram scalars are drawn in blocks of about ``_GRAM_BLOCK`` entries (a ``lax.map`` over
    blocks of steps) rather than in one call: the threefry and rejection temporaries of a
    block stay in cache, which halves this part's cost at 256 runs x 1000 steps (measured:
    0.11 s in one call, 0.056 s in blocks of 32k). Every entry's draw depends on its own key
    only (:func:`gram_statistics`), so the blocking does not change a single bit. Schedules
    share the keys (common random numbers); only their degrees of freedom differ.
    """
    n_sched, n_steps = batch.shape
    n_runs = run_keys.shape[0]
    n_blk = -(-n_steps // max(1, _GRAM_BLOCK // (n_sched * n_runs)))
    blk = -(-n_steps // n_blk)  # equal blocks, the last one padded by < n_blk steps
    # Keys for the padded steps are drawn and their Gram scalars dropped.
    pair = jax.vmap(jax.vmap(split_step_key))(_step_keys(run_keys, k0 + jnp.arange(n_blk * blk)))
    k_gram, k_draw = pair[..., 0], pair[..., 1][:, :n_steps]
    k_gram = jnp.moveaxis(k_gram.reshape(n_runs, n_blk, blk), 1, 0)  # (nb, R, blk)
    b = jnp.pad(batch, ((0, 0), (0, n_blk * blk - n_steps)), constant_values=1)
    b = jnp.moveaxis(b.reshape(n_sched, n_blk, blk), 1, 0)  # (nb, S, blk)
    gram = jax.lax.map(lambda kb: gram_statistics(kb[0][None], kb[1][:, None, :], dtype), (k_gram, b))
    # (nb, S, R, blk) -> (S, R, C)
    gram = tuple(jnp.moveaxis(g, 0, 2).reshape(n_sched, n_runs, n_blk * blk)[..., :n_steps] for g in gram)
    return k_draw, gram


def simulate(
    problem: Problem,
    schedule,
    optimizer=SGD(),
    num_runs: int = 1,
    seed=0,
    *,
    record_steps=None,
    sampler: str = "exact",
    features: str = "gaussian",
    chunk_size: int | None = None,
    progress: bool = False,
    on_divergence: str = "raise",
    placement=None,
):
    """Monte Carlo excess risk of ``num_runs`` independent runs, at steps ``0..K``.

    Args:
        problem: the task; every run starts at ``w0 = 0``.
        schedule: a :class:`Schedule` or a sequence of them (padded with ``lr = 0``).
        optimizer: ``SGD()``, ``Momentum(m)``, ``NormalizedSGD(normalizer)``, ``Adam(...)``,
            ``SignSGD()``.
        num_runs: independent runs per schedule.
        seed: int or JAX key. The same seed gives bit-identical results.
        record_steps: optional step indices in ``[0, K]`` to keep (default: every step).
        sampler: ``"exact"`` (O(d) per step, exact in distribution for Gaussian data; see
            :mod:`batchramp_theory.sampler`), ``"explicit"`` (draws the ``B x d`` matrix), or
            ``"rows"`` (true SGD on a data set: mini-batches of rows drawn with replacement from
            the problem's ``rows``, which :meth:`Problem.from_data` attaches; docs/problems.md,
            "From data").
        features: ``"gaussian"`` or, with ``sampler="explicit"``, ``"rademacher"``.
        chunk_size: steps per jitted call (default: as many as fit a memory budget).
        progress: show a progress bar over chunks.
        on_divergence: ``"raise"`` (default, :class:`DivergenceError` with the step) or
            ``"inf"`` (diverged runs read ``inf`` from that step on, with a warning).
        placement: where the runs axis is computed (:mod:`batchramp_theory.placement`; default:
            JAX's default device). :func:`batchramp_theory.sharded_simulate` passes a device mesh.

    Returns:
        ``(num_runs, K+1)`` for one schedule, ``(S, num_runs, K_max+1)`` for a sequence (or the
        recorded steps only), in JAX's default float dtype (float32 unless x64 is enabled).

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(64, 2.0, 0.5, noise=0.5)
        >>> r = bt.simulate(p, bt.constant(0.5, 16, steps=100), num_runs=8, seed=0)
        >>> r.shape
        (8, 101)
    """
    validate_for_problem(optimizer, problem)
    if getattr(problem, "weights", None) is not None:
        raise ValueError(
            "problem has mode weights (a quadrature, e.g. power_law_problem(dim=inf, quadrature=...)): "
            "Monte Carlo needs real modes; use bt.expected_risk for it, or a problem with a finite dim "
            "and quadrature=None for bt.simulate"
        )
    num_runs = check_int("num_runs", num_runs, low=1)
    if sampler not in ("exact", "explicit", "rows"):
        raise ValueError(f"sampler must be 'exact', 'explicit' or 'rows', got {sampler!r}")
    if features != "gaussian" and sampler != "explicit":
        raise ValueError("non-Gaussian features need sampler='explicit'")
    rows = None
    if sampler == "rows":
        if getattr(problem, "rows", None) is None:
            raise ValueError("sampler='rows' needs a problem with rows (bt.Problem.from_data(X, y))")
    key = _as_key(seed)
    lr, batch, steps, single = stack_schedules(schedule)
    n_sched, kmax = lr.shape
    rec = np.arange(kmax + 1) if record_steps is None else record_index(record_steps, kmax)
    placement = LOCAL if placement is None else placement
    modes = mode_arrays(problem)
    lam, theta, sigma = modes.lam, modes.theta, modes.sigma
    dt = lam.dtype

    if optimizer.multiplier_from_recursion:
        # The deterministic normaliser E|g|^2 is a functional of the exact second moments.
        mult = np.asarray(gradient_multipliers(problem, lr, batch, optimizer))
    else:
        mult = np.ones_like(lr)

    # Runs padded to a multiple of the number of shards; the padded runs repeat run 0's key
    # and are dropped. Run i always uses split(key, num_runs)[i], so results do not depend on
    # the padding.
    runs_p = placement.padded(num_runs)
    if chunk_size is None:
        chunk_size = int(np.clip(_CHUNK_BUDGET // (n_sched * runs_p), 16, 8192))
    chunk_size = min(check_int("chunk_size", chunk_size, low=1), kmax)
    n_chunks = -(-kmax // chunk_size)
    pad = n_chunks * chunk_size - kmax
    lr_p = np.pad(lr, ((0, 0), (0, pad)))
    batch_p = np.pad(batch, ((0, 0), (0, pad)), constant_values=1)
    mult_p = np.pad(mult, ((0, 0), (0, pad)))

    run_keys = placement.shard(pad_rows(jax.random.split(key, num_runs), runs_p), 0)
    delta = placement.shard(jnp.broadcast_to(-theta, (n_sched, runs_p, theta.shape[0])), 1)
    state0 = optimizer.transform().init(jnp.zeros_like(theta))
    opt_state = jax.tree_util.tree_map(
        lambda x: placement.shard(jnp.broadcast_to(x, (n_sched, runs_p) + jnp.shape(x)), 1), state0
    )
    max_batch = int(batch.max()) if sampler in ("explicit", "rows") else 0
    if sampler == "rows":
        rows = (placement.replicate(jnp.asarray(problem.rows.features, dt)),
                placement.replicate(jnp.asarray(problem.rows.residuals, dt)))

    out = np.empty((n_sched, num_runs, rec.size), dtype=dt)
    out[..., rec == 0] = problem.initial_risk
    bar = _progress_bar(n_chunks) if progress else None
    try:
        for c in range(n_chunks):
            sl = slice(c * chunk_size, (c + 1) * chunk_size)
            delta, opt_state, risks = _chunk(
                delta, opt_state, run_keys, lam, sigma,
                jnp.asarray(lr_p[:, sl], dt), jnp.asarray(batch_p[:, sl], dt), jnp.asarray(mult_p[:, sl], dt),
                c * chunk_size, rows,
                optimizer=optimizer, sampler=sampler, max_batch=max_batch, features=features,
            )
            # risks[..., j] is the risk after global step c*C + j + 1.
            lo, hi = c * chunk_size + 1, (c + 1) * chunk_size
            sel = (rec >= lo) & (rec <= hi)
            if sel.any():
                # Select the recorded steps on the device: only they cross to the host.
                out[..., sel] = placement.fetch(risks[..., rec[sel] - lo])[:, :num_runs]
            if bar is not None:
                bar[0].advance(bar[1])
    finally:
        if bar is not None:
            bar[0].stop()
    out = handle_divergence(out, steps, problem, on_divergence, what="simulation", step_index=rec)
    return out[0] if single else out


def _progress_bar(total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    prog = Progress("simulate", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    prog.start()
    return prog, prog.add_task("simulate", total=total)
