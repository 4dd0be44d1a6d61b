"""OLMo-core's ``BatchSizeSchedulerCallback``: batch sizes in tokens at token thresholds.

Semantics, from OLMo-core's ``src/olmo_core/train/callbacks/batch_size_scheduler.py`` and
``src/olmo_core/data/data_loader.py`` (docs/export.md, "OLMo-core"): ``batch_sizes`` (global batch
*in tokens*) and ``schedule`` (``Duration``\\ s of one unit) have equal length; the schedule starts
at 0 and increases strictly; each change is an integer factor (no repeated batch). Before each
batch is loaded the latest due event (``tokens_seen >= value``) is applied, an increase by a factor
``r`` only once ``batches_processed`` (tokens seen / current batch tokens) is divisible by ``r``.
On every change it multiplies the Adam/AdamW base learning rate by ``sqrt(new / old)`` by itself;
an exported learning-rate schedule must not contain that factor a second time.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .stages import run_length_cap

__all__ = ["OLMO_LR_WARNING", "check_olmo", "integer_factor_chain", "olmo_batches", "olmo_lr_factor", "parse_olmo",
           "render_olmo", "render_olmo_lr"]

OLMO_LR_WARNING = (
    "olmo-core: BatchSizeSchedulerCallback multiplies the Adam learning rate by sqrt(new/old) at every batch "
    "change by itself; the exported learning rates are divided by that factor, so do not apply it again"
)


def check_olmo(batch_tokens, thresholds) -> None:
    """Validate as ``BatchSizeSchedulerCallback.__post_init__`` (``ValueError`` naming the rule)."""
    if len(batch_tokens) != len(thresholds):
        raise ValueError("olmo-core: batch_sizes and schedule must have the same number of items")
    if not len(thresholds):
        raise ValueError("olmo-core: the schedule is empty")
    if thresholds[0] != 0:
        raise ValueError("olmo-core: the batch size schedule must start at 0")
    for (b0, t0), (b1, t1) in zip(zip(batch_tokens, thresholds), zip(batch_tokens[1:], thresholds[1:])):
        if t1 <= t0:
            raise ValueError(f"olmo-core: schedule thresholds must increase strictly, got {t0} then {t1}")
        if b1 == b0:
            raise ValueError(f"olmo-core: duplicate batch size {b1} in the schedule")
        big, small = max(b0, b1), min(b0, b1)
        if big % small:
            raise ValueError(f"olmo-core: the batch size can only change by an integer factor, got {b0} -> {b1}")


def olmo_batches(batch_tokens, thresholds, seq_len: int, budget_tokens: float) -> np.ndarray:
    """Per-step global batches (sequences) the callback produces until ``budget_tokens`` are seen."""
    check_olmo(batch_tokens, thresholds)
    thr = np.asarray(thresholds, dtype=np.int64)
    cur, seen, processed, out = int(batch_tokens[0]), 0, 0, []
    while seen < budget_tokens:
        i = int(np.searchsorted(thr, seen, side="right")) - 1  # latest due event
        target = int(batch_tokens[i])
        if target > cur:
            ratio = target // cur
            if processed % ratio == 0:
                processed //= ratio
                cur = target
        elif target < cur:
            processed *= cur // target
            cur = target
        if cur % seq_len:
            raise ValueError(f"olmo-core: batch of {cur} tokens is not a whole number of {seq_len}-token sequences")
        out.append(cur // seq_len)
        seen += cur
        processed += 1
        if len(out) > run_length_cap:
            raise ValueError("olmo-core: the schedule does not reach the budget")
    return np.array(out, dtype=np.int64)


def olmo_lr_factor(batch) -> np.ndarray:
    """Per step, the product of the callback's ``sqrt(new / old)`` factors applied so far: ``sqrt(B_k / B_0)``."""
    b = np.asarray(batch, dtype=np.float64)
    return np.sqrt(b / b[0])


def render_olmo(config: dict, *, warn: bool = True) -> str:
    """The callback as OLMo-core Python (``batch_sizes`` in tokens, ``Duration.tokens`` thresholds)."""
    if warn:
        warnings.warn(OLMO_LR_WARNING, RuntimeWarning, stacklevel=2)
    bs = ", ".join(str(int(b)) for b in config["batch_sizes"])
    sc = ", ".join(f"Duration.tokens({int(t)})" for t in config["schedule"])
    return f"BatchSizeSchedulerCallback(batch_sizes=[{bs}], schedule=[{sc}])"


def render_olmo_lr(rr) -> str:
    """CSV ``start_step,start_tokens,lr`` of the learning rate to give OLMo-core's scheduler.

    The rows are where ``rr.config["lr"]`` (the intended LR divided by the callback's own
    ``sqrt(B_k / B_0)``) changes; each holds until the next row.
    """
    lr = np.asarray(rr.config["lr"], dtype=np.float64)
    tokens = rr.schedule.samples_seen[:-1] * rr.constraints.seq_len
    change = np.concatenate([[True], np.diff(lr) != 0])
    lines = ["start_step,start_tokens,lr"]
    lines += [f"{int(k)},{int(tokens[k])},{float(lr[k])!r}" for k in np.flatnonzero(change)]
    return "\n".join(lines) + "\n"


def parse_olmo(text: str) -> tuple[list[int], list[int]]:
    """``(batch_sizes, token thresholds)`` from :func:`render_olmo`'s text (the callback's two lists)."""
    try:
        bs = text.split("batch_sizes=[", 1)[1].split("]", 1)[0]
        sc = text.split("schedule=[", 1)[1].rsplit("]", 1)[0]
    except IndexError:
        raise ValueError("olmo-core: expected BatchSizeSchedulerCallback(batch_sizes=[...], schedule=[...])") from None
    batches = [int(x) for x in bs.replace(" ", "").split(",") if x]
    thr = []
    for part in sc.split("Duration.")[1:]:
        unit, val = part.split("(", 1)
        if unit != "tokens":
            raise ValueError(f"olmo-core: expected Duration.tokens, got Duration.{unit}")
        thr.append(int(val.split(")", 1)[0]))
    check_olmo(batches, thr)
    return batches, thr


def integer_factor_chain(batches, b0: int) -> list[int]:
    """Nearest batches reachable from ``b0`` by integer factors: ``n_{i+1} = n_i max(1, round(B_i / (b0 n_i)))``."""
    out, n = [], 1
    for b in batches:
        k = max(1, int(math.floor(float(b) / (b0 * n) + 0.5)))
        n *= k
        out.append(b0 * n)
    return out
