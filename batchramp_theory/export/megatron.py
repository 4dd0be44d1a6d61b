"""Megatron-LM and NeMo batch schedules: ``--step-batch-size-schedule`` and ``--rampup-batch-size``.

Semantics, from megatron-core's ``megatron/core/num_microbatches_calculator.py`` (docs/export.md,
"Megatron-LM" cites the files and versions); ``update(consumed_samples)`` runs before every step:

* **Step schedule** (``StepBatchsizeNumMicroBatchesCalculator``): ``"THRESHOLD:BS ..."`` entries
  (spaces or commas), each number with an optional ``K/M/B/T`` suffix parsed as
  ``int(float(v) * 10^3k)``; with ``seq_length`` a threshold is in tokens and becomes
  ``tokens // seq_length`` samples. Sorted by threshold; the first must be 0, thresholds strictly
  increasing, batches positive. The batch at ``consumed`` samples is that of the last entry with
  ``threshold <= consumed``; it must be a multiple of ``micro_batch x data_parallel``, and
  Megatron-LM's ``train()`` asserts that the number of microbatches never decreases.
  ``megatron/training/global_vars.py`` always passes ``seq_length``: thresholds are tokens.
* **Legacy ramp** (``RampupBatchsizeNumMicroBatchesCalculator``, megatron-core 0.16.1;
  NeMo's ``MegatronDataSampler(rampup_batch_size=[start, increment, ramp_samples])``):
  ``n = (global - start) / increment`` must be a whole number (``global >= start``; ``n = 0``
  divides by zero there), ``per = ramp_samples / n`` and the batch is ``global`` once
  ``consumed > ramp_samples``, else ``start + int(consumed / per) x increment``.
"""

from __future__ import annotations

import numpy as np

from .stages import Constraints, linear_ramp_increments, run_length_cap

__all__ = [
    "format_count", "parse_count", "parse_step_schedule", "render_step_schedule", "step_schedule_batches",
    "check_rampup", "rampup_batch", "rampup_batches", "render_rampup", "render_nemo",
]

_SUFFIXES = (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3))


def parse_count(text: str) -> int:
    """A number with an optional ``K/M/B/T`` suffix, parsed as Megatron does: ``int(float(v) * mult)``."""
    s = text.strip().upper()
    mult = 1
    for suffix, m in _SUFFIXES:
        if s.endswith(suffix):
            mult, s = m, s[:-1]
            break
    try:
        return int(float(s) * mult)
    except ValueError:
        raise ValueError(f"step batch-size schedule: {text!r} is not a number (optionally with K/M/B/T)") from None


def format_count(n: int) -> str:
    """``n`` with the largest suffix that :func:`parse_count` reads back exactly (``250000000000 -> '250B'``)."""
    n = int(n)
    for suffix, m in _SUFFIXES:
        if n and n % m == 0:
            s = f"{n // m}{suffix}"
            if parse_count(s) == n:
                return s
    return str(n)


def parse_step_schedule(text: str, seq_length: int | None = None) -> list[tuple[int, int]]:
    """``[(threshold_samples, batch), ...]`` from a ``--step-batch-size-schedule`` string (module docstring).

    Raises ``ValueError`` naming the violated rule (entry format, first threshold 0, strictly
    increasing thresholds, positive batches).
    """
    entries = text.strip().replace(",", " ").split()
    if not entries:
        raise ValueError("step batch-size schedule must have at least one entry")
    out = []
    for e in entries:
        if ":" not in e:
            raise ValueError(f'step batch-size schedule entry "{e}" is not THRESHOLD:BATCH_SIZE')
        t, b = e.split(":", 1)
        thr = parse_count(t)
        if seq_length is not None:
            thr //= int(seq_length)
        out.append((thr, parse_count(b)))
    out.sort(key=lambda x: x[0])
    if out[0][0] != 0:
        raise ValueError(f"step batch-size schedule: the first threshold must be 0, got {out[0][0]} samples")
    for (t0, _), (t1, _) in zip(out, out[1:]):
        if t1 <= t0:
            raise ValueError(f"step batch-size schedule: thresholds must be strictly increasing (in samples), "
                             f"got {t0} then {t1}")
    for _, b in out:
        if b <= 0:
            raise ValueError(f"step batch-size schedule: batch sizes must be positive, got {b}")
    return out


def _check_multiple(batches, cons: Constraints, what: str) -> None:
    m = cons.multiple
    for b in batches:
        if int(b) % m:
            raise ValueError(f"{what}: global batch {int(b)} is not a multiple of micro_batch x data_parallel = "
                             f"{cons.micro_batch} x {cons.data_parallel} = {m}")


def render_step_schedule(entries, cons: Constraints) -> str:
    """The ``--step-batch-size-schedule`` value for ``[(threshold_samples, batch), ...]``, thresholds in tokens.

    Each threshold is written as ``samples x seq_len`` tokens (exact: Megatron's ``// seq_length``
    gives the samples back); raises ``ValueError`` if a batch is not a multiple of
    ``micro_batch x data_parallel`` or the thresholds break Megatron's rules.
    """
    entries = [(int(t), int(b)) for t, b in entries]
    _check_multiple([b for _, b in entries], cons, "megatron")
    for (_, b0), (t1, b1) in zip(entries, entries[1:]):
        if b1 < b0:
            raise ValueError(f"megatron: the batch falls from {b0} to {b1} at {t1} samples; Megatron-LM's training "
                             f"loop asserts that the number of microbatches never decreases")
    text = " ".join(f"{format_count(t * cons.seq_len)}:{b}" for t, b in entries)
    if parse_step_schedule(text, cons.seq_len) != entries:
        raise ValueError(f"megatron: the schedule {entries} does not survive Megatron's parser (thresholds must "
                         f"start at 0 and increase strictly)")
    return text


def step_schedule_batches(schedule, budget_samples: float) -> np.ndarray:
    """Per-step global batches of a parsed step schedule until ``budget_samples`` sequences are consumed."""
    thr = np.array([t for t, _ in schedule], dtype=np.int64)
    bs = np.array([b for _, b in schedule], dtype=np.int64)
    out, seen = [], 0
    while seen < budget_samples:
        b = int(bs[np.searchsorted(thr, seen, side="right") - 1])
        out.append(b)
        seen += b
        if len(out) > run_length_cap:
            raise ValueError("megatron: the schedule does not reach the budget")
    return np.array(out, dtype=np.int64)


def check_rampup(start: int, increment: int, ramp_samples: int, global_batch: int, cons: Constraints) -> int:
    """Validate a legacy ramp as megatron-core 0.16.1 does (and the divisibility it checks at run time).

    Returns the number of increments ``n``; raises ``ValueError`` naming the constraint.
    """
    if ramp_samples < 0:
        raise ValueError(f"rampup: ramp_samples must be >= 0, got {ramp_samples}")
    n = linear_ramp_increments(start, increment, global_batch, what="rampup", names=("start", "the increment", "the global batch"),
                               flag="--rampup-batch-size")
    _check_multiple([start, increment], cons, "rampup (start and increment, so that every start + k x increment is)")
    return n


def rampup_batch(consumed: int, start: int, increment: int, ramp_samples: int, global_batch: int) -> int:
    """The legacy ramp's global batch at ``consumed`` samples (module docstring; same float operations)."""
    n = (global_batch - start) // increment
    per = ramp_samples / n
    if consumed > ramp_samples:
        return global_batch
    return start + int(consumed / per) * increment


def rampup_batches(start: int, increment: int, ramp_samples: int, global_batch: int, budget_samples: float) -> np.ndarray:
    """Per-step global batches of a legacy ramp until ``budget_samples`` sequences are consumed."""
    out, seen = [], 0
    while seen < budget_samples:
        b = rampup_batch(seen, start, increment, ramp_samples, global_batch)
        out.append(b)
        seen += b
        if len(out) > run_length_cap:
            raise ValueError("rampup: the schedule does not reach the budget")
    return np.array(out, dtype=np.int64)


def render_rampup(config: dict) -> str:
    """Megatron-LM arguments of a legacy ramp (``config`` keys as :func:`batchramp_theory.export.quantize` sets)."""
    return (f"--micro-batch-size {config['micro_batch_size']} --global-batch-size {config['global_batch_size']} "
            f"--rampup-batch-size {config['start']} {config['increment']} {config['ramp_samples']}")


def render_nemo(config: dict) -> str:
    """NeMo 2 ``MegatronDataSampler`` arguments of the same legacy ramp."""
    return (f"MegatronDataSampler(seq_len={config['seq_length']}, micro_batch_size={config['micro_batch_size']}, "
            f"global_batch_size={config['global_batch_size']}, "
            f"rampup_batch_size=[{config['start']}, {config['increment']}, {config['ramp_samples']}])")
