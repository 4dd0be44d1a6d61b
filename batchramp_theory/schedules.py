"""Learning-rate and batch-size schedules, materialised as per-step arrays.

A :class:`Schedule` is two arrays of equal length ``K``: the learning rate ``lr[k]`` and the
integer batch size ``batch[k]`` used at step ``k``. Every simulator and recursion consumes
these arrays directly inside one ``lax.scan``, so a Python callable never enters a traced
loop and a schedule of a given length compiles once.

Schedules are compared at equal *samples* (``sum(batch)``), the axis on which the
learning-rate/batch-ramp equivalences hold (Seesaw pitfall P2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import jax
import numpy as np

from ._validation import as_float_array, check_int, check_scalar, is_traced

__all__ = ["Schedule", "constant", "step_decay", "cosine", "stack_schedules"]


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, eq=False)
class Schedule:
    """Per-step learning rates and batch sizes.

    Attributes:
        lr: ``(K,)`` non-negative learning rates.
        batch: ``(K,)`` positive integer batch sizes (a scalar is broadcast).

    Concrete inputs are validated eagerly (``ValueError`` naming the argument). Traced
    inputs pass through unchecked so that :func:`batchramp_theory.expected_risk` can be
    differentiated with respect to ``lr`` and ``batch`` (where ``batch`` may then be a
    float array).

    Examples:
        >>> import batchramp_theory as bt
        >>> s = bt.constant(0.1, 4, steps=10) + bt.constant(0.05, 8, steps=5)
        >>> s.steps, s.samples
        (15, 80)
    """

    lr: np.ndarray
    batch: np.ndarray

    def __init__(self, lr, batch):
        if is_traced(lr) or is_traced(batch):
            object.__setattr__(self, "lr", lr)
            object.__setattr__(self, "batch", batch)
            return
        lr_arr = as_float_array("lr", lr)
        if lr_arr.ndim != 1:
            raise ValueError(f"lr must be a 1-d per-step array, got shape {lr_arr.shape}")
        if lr_arr.size == 0:
            raise ValueError("lr must have at least one step")
        if np.any(lr_arr < 0):
            raise ValueError(f"lr must be non-negative, got min {lr_arr.min()}")
        b = as_float_array("batch", batch)
        if b.ndim == 0:
            b = np.full(lr_arr.shape, float(b))
        if b.shape != lr_arr.shape:
            raise ValueError(
                f"batch has shape {b.shape} but lr has shape {lr_arr.shape}: lengths must match"
            )
        if np.any(b != np.floor(b)):
            raise ValueError("batch must contain integers")
        if np.any(b < 1):
            raise ValueError(f"batch must be >= 1, got min {b.min()}")
        object.__setattr__(self, "lr", lr_arr)
        object.__setattr__(self, "batch", b.astype(np.int64))

    def tree_flatten(self):
        return (self.lr, self.batch), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "lr", children[0])
        object.__setattr__(obj, "batch", children[1])
        return obj

    @property
    def steps(self) -> int:
        """Number of optimizer (serial) steps ``K``."""
        return int(np.shape(self.lr)[0])

    @property
    def samples(self) -> int:
        """Total samples processed, ``sum_k batch[k]``."""
        return int(np.sum(self.batch))

    @property
    def samples_seen(self) -> np.ndarray:
        """``(K+1,)`` samples processed before step ``k`` (0 at ``k = 0``)."""
        return np.concatenate([[0], np.cumsum(self.batch)])

    @property
    def intrinsic_time(self) -> np.ndarray:
        """``(K+1,)`` intrinsic time ``T_k = sum_{j<k} lr_j`` (FSL paper, section 2.1)."""
        return np.concatenate([[0.0], np.cumsum(self.lr)])

    def scale_lr(self, factor: float) -> "Schedule":
        """The same schedule with every learning rate multiplied by ``factor``."""
        factor = check_scalar("factor", factor, low=0.0)
        return Schedule(self.lr * factor, self.batch)

    def __add__(self, other: "Schedule") -> "Schedule":
        if not isinstance(other, Schedule):
            return NotImplemented
        return Schedule(np.concatenate([self.lr, other.lr]), np.concatenate([self.batch, other.batch]))

    @staticmethod
    def concatenate(schedules: Sequence["Schedule"]) -> "Schedule":
        """Run ``schedules`` one after another."""
        if not schedules:
            raise ValueError("schedules must be non-empty")
        out = schedules[0]
        for s in schedules[1:]:
            out = out + s
        return out

    def __repr__(self) -> str:
        return (
            f"Schedule(steps={self.steps}, samples={self.samples}, "
            f"lr=[{float(np.max(self.lr)):.4g}..{float(self.lr[-1]):.4g}], "
            f"batch=[{int(self.batch[0])}..{int(np.max(self.batch))}])"
        )


def constant(lr: float, batch: int, steps: int) -> Schedule:
    """Constant learning rate and batch size for ``steps`` steps."""
    steps = check_int("steps", steps, low=1)
    lr = check_scalar("lr", lr, low=0.0)
    batch = check_int("batch", batch, low=1)
    return Schedule(np.full(steps, lr), np.full(steps, batch))


def step_decay(
    lr: float, batch: int, steps: int, milestones: Sequence[int], factor: float = 2.0
) -> Schedule:
    """Learning rate divided by ``factor`` at each step index in ``milestones``; batch fixed.

    ``lr_k = lr * factor^-(number of milestones <= k)``.
    """
    steps = check_int("steps", steps, low=1)
    lr = check_scalar("lr", lr, low=0.0)
    factor = check_scalar("factor", factor, low=0.0, low_open=True)
    ms = np.sort(np.asarray([check_int("milestones", m, low=0) for m in milestones], dtype=np.int64))
    k = np.arange(steps)
    cuts = np.searchsorted(ms, k, side="right")
    return Schedule(lr * factor ** (-cuts.astype(float)), np.full(steps, check_int("batch", batch, low=1)))


def cosine(
    lr: float, batch: int, steps: int, *, final_lr: float = 0.0, warmup_steps: int = 0
) -> Schedule:
    """Linear warmup from ``final_lr`` then half cosine from ``lr`` to ``final_lr``.

    After warmup, ``lr_k = final + (lr - final) (1 + cos(pi u)) / 2`` with
    ``u = (k - warmup) / (steps - warmup)`` (the OLMo ``CosWithWarmup`` shape).
    """
    steps = check_int("steps", steps, low=1)
    lr = check_scalar("lr", lr, low=0.0)
    final_lr = check_scalar("final_lr", final_lr, low=0.0)
    warmup_steps = check_int("warmup_steps", warmup_steps, low=0)
    if warmup_steps >= steps:
        raise ValueError(f"warmup_steps ({warmup_steps}) must be < steps ({steps})")
    k = np.arange(steps, dtype=np.float64)
    u = (k - warmup_steps) / (steps - warmup_steps)
    lrs = final_lr + (lr - final_lr) * 0.5 * (1.0 + np.cos(np.pi * u))
    if warmup_steps:
        warm = final_lr + (lr - final_lr) * k / warmup_steps
        lrs = np.where(k < warmup_steps, warm, lrs)
    return Schedule(lrs, np.full(steps, check_int("batch", batch, low=1)))


def stack_schedules(schedules: Schedule | Sequence[Schedule]) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Pad schedules to a common length with ``lr = 0`` steps and stack them.

    A zero learning rate leaves the iterate unchanged for every optimizer here, so the
    padded tail just repeats each schedule's final risk.

    Returns:
        ``(lr, batch, steps, single)``: ``(S, K_max)`` arrays, the true lengths ``(S,)``,
        and whether a single schedule was passed.
    """
    single = isinstance(schedules, Schedule)
    scheds = [schedules] if single else list(schedules)
    if not scheds:
        raise ValueError("schedule must be a Schedule or a non-empty sequence of Schedules")
    for i, s in enumerate(scheds):
        if not isinstance(s, Schedule):
            raise ValueError(f"schedule[{i}] is {type(s).__name__}, expected Schedule")
    kmax = max(s.steps for s in scheds)
    lr = np.zeros((len(scheds), kmax))
    batch = np.ones((len(scheds), kmax), dtype=np.int64)
    for i, s in enumerate(scheds):
        lr[i, : s.steps] = s.lr
        batch[i, : s.steps] = s.batch
    return lr, batch, np.array([s.steps for s in scheds]), single
