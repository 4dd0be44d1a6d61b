"""The per-step schedule type: learning rates and batch sizes materialised as arrays.

A :class:`Schedule` is two arrays of equal length ``K``: the learning rate ``lr[k]`` and the
integer batch size ``batch[k]`` used at step ``k``. Every simulator and recursion consumes
these arrays directly inside one ``lax.scan``, so a Python callable never enters a traced
loop and a schedule of a given length compiles once.

Schedules are compared at equal *samples* (``sum(batch)``), the axis on which the
learning-rate/batch-ramp equivalences hold (Seesaw, arXiv 2510.14717, section 3.2;
docs/equivalence.md, '2.3 Accounting'): steps change once the batch grows, samples do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import numpy as np

from .._validation import as_float_array, check_scalar, is_traced

__all__ = ["Schedule", "stack_schedules"]


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
        """``(K+1,)`` intrinsic time ``T_k = sum_{j<k} lr_j`` (FSL paper, arXiv 2509.19189, section 2.1)."""
        return np.concatenate([[0.0], np.cumsum(self.lr)])

    def scale_lr(self, factor: float) -> Schedule:
        """The same schedule with every learning rate multiplied by ``factor``."""
        factor = check_scalar("factor", factor, low=0.0)
        return Schedule(self.lr * factor, self.batch)

    def __add__(self, other: Schedule) -> Schedule:
        if not isinstance(other, Schedule):
            return NotImplemented
        return Schedule(np.concatenate([self.lr, other.lr]), np.concatenate([self.batch, other.batch]))

    @staticmethod
    def concatenate(schedules: Sequence[Schedule]) -> Schedule:
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
            # ValueError, as every other input check of the engines (callers catch that one).
            raise ValueError(f"schedule[{i}] is {type(s).__name__}, expected Schedule")  # noqa: TRY004
    kmax = max(s.steps for s in scheds)
    lr = np.zeros((len(scheds), kmax))
    batch = np.ones((len(scheds), kmax), dtype=np.int64)
    for i, s in enumerate(scheds):
        lr[i, : s.steps] = s.lr
        batch[i, : s.steps] = s.batch
    return lr, batch, np.array([s.steps for s in scheds]), single
