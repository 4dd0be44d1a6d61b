"""Levanter's batch schedule: ``trainer.train_batch_size`` as a list of ``ScheduleStep(start, value)``.

Semantics, from Levanter's ``src/levanter/schedule.py`` (``ScheduleStep``, ``BatchSchedule``) and
``src/levanter/trainer.py`` (``TrainerConfig``; docs/export.md, "Levanter"): ``start`` is an
optimizer step; the schedule starts at step 0 and is sorted; the batch at step ``k`` is the value
of the segment ``start_i <= k < start_{i+1}``; every value must be divisible by
``per_device_parallelism x data_axis_size`` when ``per_device_parallelism`` is set.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_levanter", "levanter_batches", "render_levanter", "parse_levanter"]


def check_levanter(steps, cons) -> None:
    """Validate ``[(start, value), ...]`` (``ValueError`` naming the rule)."""
    if not steps:
        raise ValueError("levanter: the schedule must have at least one step")
    if steps[0][0] != 0:
        raise ValueError("levanter: the schedule must start at step 0")
    for (s0, _), (s1, _) in zip(steps, steps[1:]):
        if s1 <= s0:
            raise ValueError(f"levanter: ScheduleStep starts must increase, got {s0} then {s1}")
    m = cons.multiple
    for s, v in steps:
        if v % m:
            raise ValueError(f"levanter: at step {s}, train_batch_size ({v}) must be divisible by "
                             f"per_device_parallelism x data_axis_size = {cons.micro_batch} x {cons.data_parallel}")


def levanter_batches(steps, num_steps: int) -> np.ndarray:
    """Per-step batches of ``BatchSchedule.batch_size_at_step`` for steps ``0..num_steps-1``."""
    starts = np.array([s for s, _ in steps], dtype=np.int64)
    vals = np.array([v for _, v in steps], dtype=np.int64)
    return vals[np.searchsorted(starts, np.arange(num_steps), side="right") - 1]


def render_levanter(steps, cons) -> str:
    """The YAML of ``trainer:`` (``train_batch_size`` list and ``per_device_parallelism``)."""
    check_levanter(steps, cons)
    lines = ["trainer:", f"  per_device_parallelism: {cons.micro_batch}", "  train_batch_size:"]
    lines += [f"    - start: {int(s)}\n      value: {int(v)}" for s, v in steps]
    return "\n".join(lines)


def parse_levanter(text: str) -> list[tuple[int, int]]:
    """``[(start, value), ...]`` from :func:`render_levanter`'s YAML (its ``- start/value`` items)."""
    out, start = [], None
    for raw in text.splitlines():
        line = raw.strip().lstrip("- ").strip()
        if line.startswith("start:"):
            start = int(line.split(":", 1)[1])
        elif line.startswith("value:"):
            if start is None:
                raise ValueError("levanter: value before start")
            out.append((start, int(line.split(":", 1)[1])))
            start = None
    if not out:
        raise ValueError("levanter: no train_batch_size steps found")
    return out
