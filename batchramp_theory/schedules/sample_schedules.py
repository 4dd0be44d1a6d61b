"""Base learning-rate schedules as functions of *samples* processed: the :class:`LRSchedule` type.

A base schedule is what a practitioner would run at a constant batch size: warmup, then a
decay profile. Everything the learning-rate / batch-ramp equivalence needs is a function of
samples (tokens), not steps, because steps change once the batch grows (Seesaw, arXiv
2510.14717, section 3.2). With ``S`` the sample ``budget``, ``W`` the warmup samples and
``u = (s - W)/(S - W)`` the post-warmup progress, an :class:`LRSchedule` is

    lr(s) = lr0 * (a0 + (1 - a0) s / W)      for s < W    (linear warmup from a0 * lr0)
    lr(s) = lr0 * r(u)                        for s >= W   (the decay profile, r(0) = 1)

The warmup is :func:`~batchramp_theory.schedules.linear_warmup` in samples, the convention the
per-step :func:`~batchramp_theory.cosine` uses in steps. The profiles ``r(u)`` are built by the
factories of :mod:`batchramp_theory.schedules.sample_profiles` (docs/equivalence.md,
'2.1 Base schedules').

Accounting (Seesaw section 3.3; docs/equivalence.md, '2.3 Accounting'): a batch ramp that
follows the base with batch ``B(s) = B0 * r(s)^-q`` takes ``(1/B0) * integral r^q ds`` serial
steps, so its step ratio to the base is ``mean_s r(s)^q`` (warmup counted at ``r = 1``: the
ramp starts after warmup) and the continuous-limit step reduction is ``1 - mean r^q``. For
Seesaw (``q = 1``) that is ``1 - 2/pi`` for the quarter cosine (Lemma 1), ``1/2`` for the half
cosine to 0 and ``0.405`` for the OLMo schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import jax.numpy as jnp
import numpy as np
from scipy.integrate import quad

from .._validation import check_int, check_scalar, renamed_arguments
from .per_step import Schedule
from .warmup import linear_warmup

__all__ = ["LRSchedule"]

# Largest per-step schedule materialised (8 bytes per step per array).
_MAX_STEPS = 50_000_000
# Grid used to bracket the first crossing of a level before bisection (milestones()).
_GRID = 8193


@dataclass(frozen=True, eq=False)
class LRSchedule:
    """A base learning-rate schedule ``lr(s)`` over ``s in [0, budget]`` samples.

    Build one with the factories (:func:`~batchramp_theory.olmo_cosine_lr`, ...).

    Attributes:
        name: the profile's name (``"half_cosine"``, ...).
        lr0: peak learning rate.
        budget: the sample (token) budget ``S``.
        warmup_samples: ``W``, samples of linear warmup (``0 <= W < S``).
        warmup_start: ``a0``, the warmup starts at ``a0 * lr0``.
        decay: ``decay(u, xp) -> r(u)`` on ``u in [0, 1]``, ``r(0) = 1``, written once for both
            ``xp = numpy`` (float64 accounting) and ``xp = jax.numpy`` (the optax export).
        breakpoints: ``u`` values where ``r`` jumps or kinks (for exact integration).
        params: the factory's arguments (for reports and JSON).

    Examples:
        >>> import batchramp_theory as bt
        >>> base = bt.olmo_cosine_lr(3e-3, 3.3e9)
        >>> round(base.continuous_reduction(), 4)
        0.405
    """

    name: str
    lr0: float
    budget: float
    warmup_samples: float
    warmup_start: float
    decay: Callable = field(repr=False)
    breakpoints: tuple = ()
    params: dict = field(default_factory=dict, repr=False)

    @property
    def total_samples(self) -> float:
        """Deprecated alias of :attr:`budget`."""
        return self.budget

    # ----------------------------------------------------------------- evaluation
    def progress(self, samples) -> np.ndarray:
        """Post-warmup progress ``u = clip((s - W) / (S - W), 0, 1)``."""
        s = np.asarray(samples, dtype=np.float64)
        return np.clip((s - self.warmup_samples) / (self.budget - self.warmup_samples), 0.0, 1.0)

    def ratio(self, samples) -> np.ndarray:
        """``lr(s) / lr0`` including the warmup (module docstring)."""
        s = np.asarray(samples, dtype=np.float64)
        r = np.asarray(self.decay(self.progress(s), np), dtype=np.float64)
        return linear_warmup(r, s, self.warmup_samples, self.warmup_start)

    def decay_ratio(self, samples) -> np.ndarray:
        """``lr(s) / lr0`` with the warmup counted at 1: the profile a batch ramp follows."""
        return np.asarray(self.decay(self.progress(samples), np), dtype=np.float64)

    def __call__(self, samples) -> np.ndarray:
        """The learning rate ``lr(s)`` at ``samples`` (array or scalar)."""
        return self.lr0 * self.ratio(samples)

    @property
    def final_ratio(self) -> float:
        """``r(1)``: the final learning rate over ``lr0``."""
        return float(self.decay(np.array([1.0]), np)[0])

    # ----------------------------------------------------------------- accounting
    def mean_ratio(self, q: float = 1.0) -> float:
        """``mean_s r(s)^q`` over samples, warmup counted at ``r = 1`` (module docstring).

        This is the continuous-limit ratio of serial steps, ramp over base, for a ramp with
        batch ``B0 r^-q`` (``q = ln batch_factor / ln cut``; Seesaw and the pure SGD ramp have
        ``q = 1``). Computed by adaptive quadrature (``scipy.integrate.quad``) split at the
        profile's breakpoints, accurate to about 1e-12.
        """
        q = check_scalar("q", q, low=0.0)
        w = self.warmup_samples / self.budget
        pts = [0.0, *sorted(b for b in self.breakpoints if 0.0 < b < 1.0), 1.0]
        f = lambda u: float(self.decay(np.array([u]), np)[0]) ** q
        integral = sum(quad(f, a, b, limit=200, epsabs=1e-14, epsrel=1e-13)[0] for a, b in pairwise(pts))
        return w + (1.0 - w) * integral

    def continuous_reduction(self, q: float = 1.0) -> float:
        """Continuous-limit serial-step reduction ``1 - mean_s r(s)^q`` (Seesaw section 3.3, Lemma 1)."""
        return 1.0 - self.mean_ratio(q)

    @renamed_arguments(cut_factor="cut", beta="batch_factor")
    def stepwise_reduction(self, cut: float, batch_factor: float | None = None) -> float:
        """Step reduction of the discretised ramp in the limit ``B0 << S`` (no flooring, no cap).

        The ramp's batch is ``B0 beta^k(s)`` (``beta = batch_factor``) with ``k(s)`` the number
        of milestones (:meth:`milestones`) at or before ``s``, so its step ratio to the base is
        ``mean_s beta^-k(s)`` and the reduction is ``1 - mean_s beta^-k(s)``; ``beta`` defaults
        to the cut factor ``gamma = cut`` (Seesaw, or Smith's pure SGD ramp). For the OLMo
        schedule with cut 1.1 this is 0.3845, against 0.405 continuous (Seesaw section 3.3;
        docs/equivalence.md, '2.3 Accounting').
        """
        gamma = check_scalar("cut", cut, low=1.0, low_open=True)
        beta = gamma if batch_factor is None else check_scalar("batch_factor", batch_factor, low=1.0)
        edges = np.concatenate([[0.0], self.milestones(gamma).astype(np.float64), [self.budget]])
        k = np.arange(edges.size - 1, dtype=np.float64)
        return 1.0 - float(np.sum(np.diff(edges) * beta**-k)) / self.budget

    # ----------------------------------------------------------------- discretisation
    @renamed_arguments(cut_factor="cut")
    def milestones(self, cut: float, *, max_cuts: int = 10_000) -> np.ndarray:
        """Samples where the decay profile first falls to ``gamma^-k``, ``k = 1, 2, ...`` (``gamma = cut``).

        ``s_k = W + round((S - W) u_k)`` with ``u_k`` the first ``u`` where
        ``r(u) <= gamma^-k`` (Seesaw section 3.2 and the official ``get_decay_tokens``: for the
        half cosine ``u_k = arccos(2 (gamma^-k - f)/(1 - f) - 1) / pi``; docs/equivalence.md,
        '2.2 Discretisation'). Cuts stop at ``k_max = floor(log r_min / log(1/gamma))`` or when a
        milestone reaches the budget (a profile that decays to 0 crosses every level, ever
        closer to the end).

        Returns:
            Integer array of milestones in samples, non-decreasing.
        """
        gamma = check_scalar("cut", cut, low=1.0, low_open=True)
        max_cuts = check_int("max_cuts", max_cuts, low=1)
        span = self.budget - self.warmup_samples
        grid = np.linspace(0.0, 1.0, _GRID)
        # Running minimum: the first u where r(u) <= level is the first grid cell where the running
        # minimum drops to the level (exact for any profile, monotone or not), then bisection.
        run_min = np.minimum.accumulate(np.asarray(self.decay(grid, np), dtype=np.float64))
        r_min = float(run_min[-1])
        if r_min <= 0:
            # A profile that reaches 0 crosses every level; only levels met before the last sample
            # count, and only levels above float resolution (bisect for the last u with r(u) > 0).
            lo = float(grid[np.nonzero(run_min > 0)[0][-1]]) if np.any(run_min > 0) else 0.0
            hi = max(lo, 1.0 - 0.5 / span)
            if self.decay(np.array([hi]), np)[0] <= 0:
                for _ in range(200):
                    mid = 0.5 * (lo + hi)
                    lo, hi = (mid, hi) if self.decay(np.array([mid]), np)[0] > 0 else (lo, mid)
                hi = lo
            r_min = float(self.decay(np.array([hi]), np)[0])
        if r_min <= 0:
            return np.zeros(0, dtype=np.int64)
        # 1e-9 slack: a level hit exactly (step decay by gamma) counts as reached.
        k_max = min(int(np.floor(np.log(r_min) / np.log(1.0 / gamma) + 1e-9)), max_cuts)
        if k_max < 1:
            return np.zeros(0, dtype=np.int64)
        levels = gamma ** (-np.arange(1, k_max + 1, dtype=np.float64)) * (1.0 + 1e-12)
        i = np.searchsorted(-run_min, -levels, side="left")  # first index with run_min <= level
        i = np.minimum(i, _GRID - 1)
        lo = np.where(i > 0, grid[np.maximum(i - 1, 0)], 0.0)
        hi = grid[i]
        for _ in range(80):  # vectorised bisection to machine precision in u
            mid = 0.5 * (lo + hi)
            below = np.asarray(self.decay(mid, np), dtype=np.float64) <= levels
            hi = np.where(below, mid, hi)
            lo = np.where(below, lo, mid)
        u = np.where(i > 0, hi, 0.0)
        s_k = self.warmup_samples + np.round(span * u)
        return s_k[s_k < self.budget].round().astype(np.int64)

    # ----------------------------------------------------------------- export
    def to_schedule(self, batch: int, tokens_per_sample: int = 1) -> Schedule:
        """The base run at constant ``batch``: ``ceil(S / (B L))`` steps, ``lr_k = lr(k B L)``.

        ``L = tokens_per_sample`` when the schedule's axis is tokens and a batch element is a
        sequence of ``L`` tokens (1 otherwise). Step ``k`` uses the learning rate at the samples
        seen before it, and the run stops once the budget is reached (the last step may
        overshoot it by less than one batch, as the OLMo trainer does).
        """
        batch = check_int("batch", batch, low=1)
        per_step = batch * check_int("tokens_per_sample", tokens_per_sample, low=1)
        if per_step > self.budget:
            raise ValueError(
                f"the budget ({self.budget:.6g} samples) is smaller than one batch ({per_step} samples)"
            )
        steps = int(np.ceil(self.budget / per_step - 1e-12))
        if steps > _MAX_STEPS:
            raise ValueError(
                f"the run would take {steps:,} steps at batch {batch}; more than {_MAX_STEPS:,} cannot be "
                f"materialised as a per-step schedule (use a larger batch or a smaller budget)"
            )
        seen = np.arange(steps, dtype=np.float64) * per_step
        return Schedule(self(seen), np.full(steps, batch))

    def optax_schedule(self, batch: int, tokens_per_sample: int = 1):
        """The base learning rate as an ``optax`` schedule ``step -> lr`` at constant ``batch``.

        A jittable function of the integer step count: ``lr(step * batch * tokens_per_sample)``.
        """
        batch = check_int("batch", batch, low=1) * check_int("tokens_per_sample", tokens_per_sample, low=1)
        lr0, a0, w, s_tot = self.lr0, self.warmup_start, self.warmup_samples, self.budget
        decay = self.decay

        def schedule(count):
            s = jnp.asarray(count) * batch
            u = jnp.clip((s - w) / (s_tot - w), 0.0, 1.0)
            return lr0 * linear_warmup(decay(u, jnp), s, w, a0, xp=jnp)

        return schedule

    def describe(self) -> dict:
        """JSON-ready description: name, lr0, budget, warmup and the factory's parameters.

        The keys ``total_samples`` (= ``budget``) and ``warmup`` (= ``warmup_fraction``) are
        deprecated duplicates kept for one release, for readers of ``batchramp seesaw --json``.
        """
        out = {
            "name": self.name,
            "lr0": self.lr0,
            "budget": self.budget,
            "warmup_samples": self.warmup_samples,
            "warmup_start": self.warmup_start,
            **self.params,
            "total_samples": self.budget,
        }
        if "warmup_fraction" in self.params:
            out["warmup"] = self.params["warmup_fraction"]
        return out


# The dataclass __init__ takes the field names: accept the old keyword for one release.
LRSchedule.__init__ = renamed_arguments(total_samples="budget")(LRSchedule.__init__)
