"""Any per-step schedule (a planner point) through the same exporters as a Seesaw ramp.

The exporters (:func:`batchramp_theory.export.quantize`, ``render``, ``quantization_cost``) take a
:class:`~batchramp_theory.RampPlan`, but read only a few of its fields: ``schedule`` (per-step LR
and integer batch), ``tokens_per_sample``, ``base_lr.budget`` (where the framework run stops),
and, for the learning rate at each step of the runnable run, :func:`~batchramp_theory.export.lr_in_samples`
(``lr0`` before the first milestone, ``lr_after[i]`` from milestone ``i`` on, milestones on the
tokens axis). The smallest adapter is therefore a ``RampPlan`` *built from* the schedule rather
than a second set of renderers (docs/export.md, "Exporting a planner point"):

* ``schedule`` is the given schedule; its batch stages (:func:`~batchramp_theory.export.ideal_stages`)
  are the steps where the batch changes, each with its threshold ``s_k = sum_{j<k} B_j``;
* one milestone per step ``k >= 1`` whose LR differs from step ``k - 1``'s, at position
  ``s_k L`` (``L = tokens_per_sample``), with ``lr_after = lr_k`` and ``lr0 = lr_0``; so
  ``lr_in_samples`` returns ``lr_k`` at exactly the samples seen before step ``k``: the LR is a
  function of the data seen, as for a ramp, and with ``micro_batch x data_parallel = 1`` the
  threshold formats give back the schedule itself;
* ``base_lr`` is a constant :func:`~batchramp_theory.constant_lr` at ``lr_0`` over the
  schedule's ``N L`` tokens without warmup (only its budget and ``lr0`` are read), and ``base`` is
  the schedule itself: a planned schedule replaces no LR-decay run, so ``quantization_cost``
  prices the runnable run against the planned one (``ratio_vs_ideal = ratio_vs_decay``, the gap
  at equal samples is to the planned run); ``rule`` is ``None`` (no ramp rule made it).

Formats: ``megatron`` (a non-decreasing batch; Megatron-LM asserts the microbatches never
decrease), ``levanter``, ``json``, ``csv`` and ``optax`` (the LR) express a schedule stage by
stage; ``olmo-core`` expresses it up to its integer-factor chain (the quantiser's note says how
many stages remain, and the cost report prices it). ``megatron-legacy``, ``nemo`` and ``maxtext``
are refused: three numbers (start, increment, ramp length) give a linear ramp from sample 0, not a
batch curve chosen jointly with a per-step LR (forced through the quantiser on a small planner
point, the linear ramp ends about 30% above the planned risk and misses the target;
docs/export.md, "Exporting a planner point").
"""

from __future__ import annotations

import numpy as np

from ..schedules import Schedule, constant_lr
from ..seesaw import RampAccounting, RampPlan
from .cost import quantization_cost
from .quantize import FORMATS, quantize

__all__ = ["SCHEDULE_FORMATS", "REFUSED", "ramp_plan_from_schedule", "quantize_schedule", "schedule_quantization_cost"]

# The formats that express a per-step schedule (olmo-core up to its integer-factor chain).
SCHEDULE_FORMATS = ("megatron", "levanter", "optax", "json", "csv", "olmo-core")
# Why each other format cannot express a per-step (planner) schedule.
_LINEAR = ("cannot express a planner schedule: a linear ramp from sample 0 (start, increment, ramp length) is not the planned batch curve chosen "
           "jointly with its per-step learning rate; use --export megatron (step schedule) or levanter")
REFUSED = {f: f"{f}: {_LINEAR}" for f in ("megatron-legacy", "nemo", "maxtext")}


def ramp_plan_from_schedule(schedule: Schedule, *, tokens_per_sample: int = 1) -> RampPlan:
    """The :class:`~batchramp_theory.RampPlan` the exporters read for a per-step ``schedule`` (module docstring)."""
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {type(schedule).__name__}")
    lr = np.asarray(schedule.lr, dtype=np.float64)
    b = np.asarray(schedule.batch, dtype=np.int64)
    if lr[0] <= 0:
        raise ValueError(f"the schedule's first learning rate must be positive, got {lr[0]!r}")
    seq = int(tokens_per_sample)
    seen = schedule.samples_seen.astype(np.int64)
    k = np.flatnonzero(np.diff(lr) != 0) + 1
    n = int(seen[-1])
    acc = RampAccounting(budget=float(n * seq), base_steps=schedule.steps, ramp_steps=schedule.steps,
                         base_samples=n * seq, ramp_samples=n * seq, reduction=0.0,
                         continuous_reduction=float("nan"), stepwise_reduction=float("nan"), overshoot=0)
    return RampPlan(schedule=schedule, base=schedule, base_lr=constant_lr(float(lr[0]), float(n * seq)), rule=None,
                    milestones=(seen[k] * seq).astype(np.float64), milestone_steps=k.astype(np.int64),
                    lr_after=lr[k], batch_after=b[k], capped=np.zeros(k.size, bool), accounting=acc,
                    tokens_per_sample=seq)


def quantize_schedule(schedule: Schedule, format: str, *, micro_batch: int = 1, data_parallel: int = 1,
                      seq_len: int = 1):
    """``(RampPlan, RunnableRamp)``: ``schedule`` quantised for ``format`` by :func:`~batchramp_theory.export.quantize`.

    Raises ``ValueError`` (one line, saying why) for the formats of :data:`REFUSED` and for a
    ``megatron`` schedule whose batch falls (after rounding to multiples of
    ``micro_batch x data_parallel``).
    """
    if format in REFUSED:
        raise ValueError(REFUSED[format])
    if format not in FORMATS:
        raise ValueError(f"format must be one of {SCHEDULE_FORMATS} for a planner schedule, got {format!r}")
    plan = ramp_plan_from_schedule(schedule, tokens_per_sample=seq_len)
    rr = quantize(plan, format, micro_batch=micro_batch, data_parallel=data_parallel, seq_len=seq_len, warn=False)
    fall = np.flatnonzero(np.diff(rr.schedule.batch) < 0)
    if format == "megatron" and fall.size:
        k = int(fall[0]) + 1
        raise ValueError(f"megatron: the batch falls from {int(rr.schedule.batch[k - 1])} to {int(rr.schedule.batch[k])} "
                         f"at step {k} and Megatron-LM asserts that the number of microbatches never decreases; "
                         f"use --export levanter or csv for this schedule")
    note = {"megatron": "Megatron's --lr-decay-style cannot express a per-step learning rate: take it from "
                        "--export csv (lr column) or --export optax",
            "levanter": "the learning rate: --export optax (a step-indexed optax schedule)",
            "optax": "the batch: --export levanter, megatron or csv",
            "olmo-core": "the learning rate: the .lr.csv written with --out (the callback's sqrt factor divided out)",
            }.get(format)
    return plan, rr._replace(notes=rr.notes + ((note,) if note else ()))


def schedule_quantization_cost(plan: RampPlan, runnable, problem, optimizer, target: float | None = None):
    """``(QuantizationCost, reaches_target)``: the runnable run priced against the planned one, exactly.

    :func:`~batchramp_theory.export.quantization_cost` with the plan's own problem and optimizer
    and ``lr = lr_0`` (its scale ``lr / lr0`` is then 1: the planned learning rates are absolute).
    ``reaches_target``: the runnable run's final excess risk (``cost.risk_quantized``, by
    :func:`batchramp_theory.expected_risk`) is at most ``target`` (``None`` without one); a run
    that diverges (``inf``) does not.
    """
    cost = quantization_cost(plan, runnable, problem, optimizer, lr=float(plan.base_lr.lr0))
    return cost, (None if target is None else bool(cost.risk_quantized <= target))
