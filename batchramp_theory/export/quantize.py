"""The quantiser: the ideal ramp mapped to the nearest schedule a framework can run.

Given a :class:`~batchramp_theory.RampPlan` (the ideal ramp from
:func:`batchramp_theory.ramp_schedule`) and the layout (:class:`Constraints`), each format is
fitted as follows (docs/export.md, "The quantiser"); ``m = micro_batch x data_parallel``:

* ``megatron``, ``levanter``, ``json``, ``csv``, ``optax``: every stage of the ideal ramp
  (:func:`ideal_stages`) keeps its threshold in samples; its batch becomes the nearest multiple of
  ``m`` (at least ``m``); equal neighbours merge. The run follows Megatron's rule (the batch of
  the last threshold reached, checked before every step), so each change lands on the first step
  that starts at or past its threshold; the exported thresholds (Megatron) or steps (Levanter,
  tables) are those actual step starts.
* ``megatron-legacy``, ``nemo``, ``maxtext``: the only expressible shape is a linear ramp from
  sample 0: ``start`` and ``global`` are the ideal first and last batches rounded to multiples of
  ``m``, the increment is ``m`` and the ramp length is the samples at which the ideal ramp first
  reaches its last batch. MaxText gets the same numbers per device (``/ data_parallel``) and runs
  with its own stage rule (counter reset).
* ``olmo-core``: batches in tokens, each change an integer factor: from the rounded first batch
  ``b0``, stage ``i`` takes ``b0 n_i`` with ``n_i = n_{i-1} max(1, round(B_i / (b0 n_{i-1})))``;
  the run follows the callback (latest due event, increases only when the batches processed are
  divisible by the factor).

The learning rate at each step is the plan's at the samples seen before it
(:func:`lr_in_samples`), so the quantised ramp differs from the ideal one in its batches only.
For OLMo-core the exported learning rates are divided by the callback's own ``sqrt(B_k / B_0)``
(``config["lr"]``), with a ``RuntimeWarning``. What changed is listed in ``notes``; nothing is
changed silently.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..schedules import Schedule
from . import levanter, maxtext, megatron, olmo_core, optax_schedule
from .stages import Constraints, RunnableRamp, constraints, ideal_stages, lr_in_samples, nearest_multiple

__all__ = ["FORMATS", "quantize", "render"]

FORMATS = ("megatron", "megatron-legacy", "nemo", "maxtext", "olmo-core", "levanter", "optax", "json", "csv")


def _budget_samples(plan) -> float:
    return float(plan.base_lr.budget) / plan.tokens_per_sample


def _rounded_stages(plan, cons: Constraints, notes: list):
    thr, b = ideal_stages(plan)
    q = np.array([nearest_multiple(x, cons.multiple) for x in b], dtype=np.int64)
    changed = int(np.sum(q != b))
    if changed:
        notes.append(f"{changed} of {b.size} stage batches rounded to multiples of micro_batch x data_parallel = "
                     f"{cons.multiple}")
    keep = np.concatenate([[True], np.diff(q) != 0])
    if not keep.all():
        notes.append(f"{int(np.sum(~keep))} stages merged with an equal neighbour after rounding")
    return thr[keep], q[keep]


def _actual_starts(batch: np.ndarray):
    """Steps and sequences seen at which the batch changes in a per-step batch array."""
    steps = np.concatenate([[0], np.flatnonzero(np.diff(batch)) + 1]).astype(np.int64)
    seen = np.concatenate([[0], np.cumsum(batch)])[steps].astype(np.int64)
    return steps, seen


def _linear_fit(plan, cons: Constraints, notes: list) -> dict:
    thr, b = ideal_stages(plan)
    start, glob = nearest_multiple(b[0], cons.multiple), nearest_multiple(b[-1], cons.multiple)
    if glob <= start:
        raise ValueError(f"a linear ramp (--rampup-batch-size / MaxText) needs a final batch above the start batch; "
                         f"after rounding to multiples of {cons.multiple} both are {start}")
    notes.append(f"linear ramp from sample 0: {start} -> {glob} by {cons.multiple} over {int(thr[-1])} samples "
                 f"(the ideal ramp holds {b[0]} until sample {int(thr[1]) if thr.size > 1 else 0} and grows "
                 f"geometrically: this format cannot express that shape)")
    return {"start": start, "increment": cons.multiple, "ramp_samples": int(thr[-1]), "global_batch_size": glob,
            "micro_batch_size": cons.micro_batch, "data_parallel_size": cons.data_parallel,
            "seq_length": cons.seq_len}


def quantize(plan, format: str, *, micro_batch: int = 1, data_parallel: int = 1, seq_len: int | None = None,
             warn: bool = True) -> RunnableRamp:
    """The nearest schedule ``format`` can run on the given layout (module docstring).

    Args:
        plan: a :class:`~batchramp_theory.RampPlan`.
        format: one of :data:`FORMATS`.
        micro_batch, data_parallel: the layout; every global batch becomes a multiple of their product.
        seq_len: tokens per sequence; ``None`` takes the plan's ``tokens_per_sample``; another
            value than the plan's is an error (the plan's thresholds are in its tokens).
        warn: emit the OLMo-core learning-rate warning (module docstring).

    Returns:
        A :class:`RunnableRamp` whose ``schedule`` is the per-step run the framework produces.

    Raises:
        ValueError: naming the constraint the ramp cannot meet (e.g. a linear format asked for a
            ramp that does not grow after rounding, a ``seq_len`` of 0).

    Examples:
        >>> import batchramp_theory as bt
        >>> plan = bt.ramp_schedule(bt.half_cosine_lr(1.0, 2e6, 0.1), 8, bt.seesaw_rule(2.0))
        >>> rr = bt.export.quantize(plan, "megatron", micro_batch=2, data_parallel=2)
        >>> bool((rr.schedule.batch % 4 == 0).all())
        True
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if seq_len is None:
        seq_len = plan.tokens_per_sample
    cons = constraints(micro_batch, data_parallel, seq_len)
    if cons.seq_len != plan.tokens_per_sample:
        raise ValueError(f"seq_len ({cons.seq_len}) must equal the plan's tokens_per_sample "
                         f"({plan.tokens_per_sample}): the plan's thresholds are counted in its tokens")
    budget = _budget_samples(plan)
    notes: list[str] = []
    if format in ("megatron-legacy", "nemo", "maxtext"):
        cfg = _linear_fit(plan, cons, notes)
        if format == "megatron-legacy":
            notes.append("--rampup-batch-size is deprecated and ignored by Megatron-LM main (2026); it runs in "
                         "megatron-core <= 0.16.1 and NeMo 2 (use --export megatron for current Megatron-LM)")
        megatron.check_rampup(cfg["start"], cfg["increment"], cfg["ramp_samples"], cfg["global_batch_size"], cons)
        if format == "maxtext":
            dp = cons.data_parallel
            cfg = {"enable_rampup_batch_size": "true", "per_device_batch_size_start": cfg["start"] // dp,
                   "per_device_batch_size_increment": cfg["increment"] // dp,
                   "per_device_batch_size": cfg["global_batch_size"] // dp,
                   "global_rampup_samples": max(1, cfg["ramp_samples"]), "num_devices": dp}
            batch = maxtext.maxtext_batches(cfg, dp, budget)
        else:
            batch = megatron.rampup_batches(cfg["start"], cfg["increment"], cfg["ramp_samples"],
                                            cfg["global_batch_size"], budget)
    elif format == "olmo-core":
        thr, b = ideal_stages(plan)
        b0 = nearest_multiple(b[0], cons.multiple)
        chain = np.array(olmo_core.integer_factor_chain(b, b0), dtype=np.int64)
        keep = np.concatenate([[True], np.diff(chain) != 0])
        notes.append(f"integer-factor batches: {b.size} ideal stages -> {int(keep.sum())} "
                     f"({', '.join(str(int(x)) for x in chain[keep])} sequences)")
        tok_b, tok_t = list(chain[keep] * cons.seq_len), list(thr[keep] * cons.seq_len)
        batch = olmo_core.olmo_batches(tok_b, tok_t, cons.seq_len, plan.base_lr.budget)
        steps, seen = _actual_starts(batch)
        cfg = {"batch_sizes": [int(x) * cons.seq_len for x in batch[steps]],
               "schedule": [int(s) * cons.seq_len for s in seen], "seq_len": cons.seq_len,
               "global_batch_size": int(batch[0]) * cons.seq_len}
    else:
        thr, q = _rounded_stages(plan, cons, notes)
        batch = megatron.step_schedule_batches(list(zip(thr.tolist(), q.tolist())), budget)
        steps, seen = _actual_starts(batch)
        cfg = {"entries": [(int(s), int(bb)) for s, bb in zip(seen, batch[steps])], "micro_batch_size": cons.micro_batch,
               "data_parallel_size": cons.data_parallel, "seq_length": cons.seq_len}
        if format == "levanter":
            cfg = {"steps": [(int(s), int(bb)) for s, bb in zip(steps, batch[steps])],
                   "per_device_parallelism": cons.micro_batch, "data_axis_size": cons.data_parallel}
    seen_before = np.concatenate([[0], np.cumsum(batch)[:-1]]).astype(np.float64) * cons.seq_len
    lr = lr_in_samples(plan)(seen_before)
    if format == "olmo-core":
        cfg["lr"] = lr / olmo_core.olmo_lr_factor(batch)
        notes.append(olmo_core.OLMO_LR_WARNING)
        if warn:
            warnings.warn(olmo_core.OLMO_LR_WARNING, RuntimeWarning, stacklevel=2)
    return RunnableRamp(format, cfg, Schedule(lr, batch), cons, float(plan.base_lr.budget), tuple(notes))


def render(rr: RunnableRamp) -> str:
    """The text to paste into the framework (docs/export.md gives each format's form and where it goes)."""
    cons, cfg, f = rr.constraints, rr.config, rr.format
    if f == "megatron":
        return (f"--micro-batch-size {cons.micro_batch} --seq-length {cons.seq_len} "
                f"--step-batch-size-schedule \"{megatron.render_step_schedule(cfg['entries'], cons)}\"")
    if f == "megatron-legacy":
        return megatron.render_rampup(cfg)
    if f == "nemo":
        return megatron.render_nemo(cfg)
    if f == "maxtext":
        return maxtext.render_maxtext(cfg)
    if f == "olmo-core":
        return olmo_core.render_olmo(cfg, warn=False)
    if f == "levanter":
        return levanter.render_levanter(cfg["steps"], cons)
    lr = cfg["lr"] if "lr" in cfg else np.asarray(rr.schedule.lr)
    if f == "optax":
        return optax_schedule.render_optax(lr)
    rows = rr.table()
    if f == "json":
        meta = {"format": "batchramp schedule table", "seq_len": cons.seq_len, "micro_batch": cons.micro_batch,
                "data_parallel": cons.data_parallel, "steps": int(rr.schedule.steps), "budget": rr.budget}
        return optax_schedule.render_json(rows, meta)
    return optax_schedule.render_csv(rows)
