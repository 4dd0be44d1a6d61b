"""What every exporter shares: the run constraints, the runnable ramp, and the ideal ramp's stages.

A framework runs a batch schedule under constraints the ideal ramp
(:func:`batchramp_theory.ramp_schedule`) does not know about (docs/export.md, "Constraints"):

* every global batch is a multiple of ``m = micro_batch x data_parallel`` (Megatron's
  ``num_microbatches = global / (micro x dp)``, MaxText's ``per_device x devices``, Levanter's
  ``per_device_parallelism x data_axis_size``);
* batch changes happen at step starts: a threshold in samples or tokens takes effect at the first
  step that starts at or after it, so thresholds round up to whole steps;
* some formats only express linear increments (Megatron's legacy ``--rampup-batch-size``, NeMo,
  MaxText) or integer factors (OLMo-core).

:class:`RunnableRamp` is the schedule a framework actually runs, with its settings in the
framework's own units; the quantiser (:mod:`batchramp_theory.export.quantize`) builds it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_int
from ..schedules import Schedule

__all__ = ["Constraints", "RunnableRamp", "constraints", "ideal_stages", "lr_in_samples", "nearest_multiple",
           "linear_ramp_increments",
           "run_length_cap"]

# A framework simulation that has not reached the budget after this many steps is a bug or a
# schedule that cannot finish (a batch of 0): stop with an error instead of looping.
run_length_cap = 10_000_000


class Constraints(NamedTuple):
    """The parallel layout a schedule must run on (docs/export.md, "Constraints").

    Attributes:
        micro_batch: sequences per device per forward/backward pass.
        data_parallel: data-parallel replicas (devices for MaxText, ``data_axis_size`` for Levanter).
        seq_len: tokens per sequence ``L`` (thresholds in tokens are ``samples x L``).
    """

    micro_batch: int = 1
    data_parallel: int = 1
    seq_len: int = 1

    @property
    def multiple(self) -> int:
        """``m = micro_batch x data_parallel``: every global batch is a multiple of it."""
        return self.micro_batch * self.data_parallel


def constraints(micro_batch=1, data_parallel=1, seq_len=1) -> Constraints:
    """Validated :class:`Constraints` (``ValueError`` naming the argument for a value below 1)."""
    if seq_len is not None and not isinstance(seq_len, bool) and float(seq_len) == 0:
        raise ValueError("seq_len must be >= 1 (a sequence length of 0 has no tokens to count)")
    return Constraints(check_int("micro_batch", micro_batch, low=1), check_int("data_parallel", data_parallel, low=1),
                       check_int("seq_len", seq_len, low=1))


def linear_ramp_increments(start, increment, end, *, what: str, names=("start", "increment", "end"),
                           flag: str = "the ramp") -> int:
    """``n = (end - start) / increment`` of a growing linear batch ramp, validated; ``ValueError`` otherwise.

    Megatron-LM's legacy ``--rampup-batch-size`` and MaxText's per-device ramp share this rule
    (``start, increment > 0``, ``end > start``, ``end - start`` divisible by ``increment``); each
    caller passes its framework's parameter ``names`` and label ``what`` so the message speaks its
    words (docs/export.md).
    """
    s_name, i_name, e_name = names
    if start <= 0 or increment <= 0:
        raise ValueError(f"{what}: {s_name} ({start:g}) and {i_name} ({increment:g}) must be positive")
    diff = end - start
    if diff <= 0:
        raise ValueError(f"{what}: {e_name} ({end:g}) must exceed {s_name} ({start:g}): {flag} expresses a growing "
                         "linear ramp only")
    if diff % increment:
        raise ValueError(f"{what}: {e_name} - {s_name} = {diff:g} is not divisible by {i_name} {increment:g}")
    return int(diff // increment)


def nearest_multiple(batch, multiple: int) -> int:
    """The multiple of ``multiple`` nearest to ``batch`` (ties round up), at least ``multiple``."""
    k = int(np.floor(float(batch) / multiple + 0.5))
    return max(1, k) * multiple


class RunnableRamp(NamedTuple):
    """A batch ramp as one framework runs it (:func:`batchramp_theory.export.quantize`).

    Attributes:
        format: the format name (``"megatron"``, ``"megatron-legacy"``, ``"nemo"``, ``"maxtext"``,
            ``"olmo-core"``, ``"levanter"``, ``"optax"``, ``"json"``, ``"csv"``).
        config: the framework's settings in its own units (per format; docs/export.md).
        schedule: the per-step run it produces: ``batch`` (sequences) by the framework's own
            semantics until the budget is reached, ``lr`` the intended learning rate at the samples
            seen before each step (:func:`lr_in_samples`).
        constraints: the :class:`Constraints` it was built for.
        budget: the budget on the plan's axis (tokens when ``seq_len > 1``).
        notes: what the quantiser changed or what the user must know (never silent).
    """

    format: str
    config: dict
    schedule: Schedule
    constraints: Constraints
    budget: float
    notes: tuple = ()

    @property
    def change_steps(self) -> np.ndarray:
        """Steps at which the batch changes (the first entry is 0)."""
        b = np.asarray(self.schedule.batch)
        return np.concatenate([[0], np.flatnonzero(np.diff(b)) + 1]).astype(np.int64)

    def table(self) -> list[dict]:
        """One row per step at which the batch or the learning rate changes.

        Keys ``step``, ``samples`` (sequences seen before it), ``tokens`` (``samples x seq_len``),
        ``batch`` and ``lr``: the rows of the JSON/CSV export; the schedule holds each row's values
        until the next row.
        """
        lr = np.asarray(self.schedule.lr, dtype=np.float64)
        b = np.asarray(self.schedule.batch)
        seen = self.schedule.samples_seen
        change = np.concatenate([[True], (np.diff(b) != 0) | (np.diff(lr) != 0)])
        return [{"step": int(k), "samples": int(seen[k]), "tokens": int(seen[k]) * self.constraints.seq_len,
                 "batch": int(b[k]), "lr": float(lr[k])} for k in np.flatnonzero(change)]


def ideal_stages(plan) -> tuple[np.ndarray, np.ndarray]:
    """The ideal ramp's batch stages: ``(start_samples, batch)`` in sequences, first start 0.

    ``start_samples`` are the sequences seen before each step at which the plan's batch changes
    (the converter's milestone steps), so a threshold rule ``batch(seen) = batch_i for seen >=
    start_i`` reproduces the plan's batches.
    """
    b = np.asarray(plan.schedule.batch, dtype=np.int64)
    idx = np.concatenate([[0], np.flatnonzero(np.diff(b)) + 1])
    return plan.schedule.samples_seen[idx].astype(np.int64), b[idx]


def lr_in_samples(plan):
    """Factory: ``f(position) -> lr``, the plan's learning rate as a function of the data seen.

    ``position`` is on the plan's axis (tokens when ``tokens_per_sample > 1``). Before the base's
    warmup ends, the base's warmup ``lr(s)``; after it, ``lr0`` divided by every cut whose
    milestone was reached by ``position`` (``plan.lr_after``; docs/equivalence.md 2.2). A
    quantised ramp keeps this learning rate, so only its batches differ from the ideal ramp's.
    """
    base = plan.base_lr
    reached = np.asarray(plan.milestone_steps) >= 0
    ms = np.asarray(plan.milestones, dtype=np.float64)[reached]
    after = np.asarray(plan.lr_after, dtype=np.float64)[reached]
    lr0, w = float(base.lr0), float(base.warmup_samples)

    def f(position):
        pos = np.asarray(position, dtype=np.float64)
        k = np.searchsorted(ms, pos, side="right")
        flat = np.where(k > 0, after[np.maximum(k - 1, 0)] if after.size else lr0, lr0)
        return np.where(pos < w, base(pos), flat)

    return f
