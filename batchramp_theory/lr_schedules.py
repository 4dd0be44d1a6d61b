"""Base learning-rate schedules as functions of *samples* processed.

A base schedule is what a practitioner would run at a constant batch size: warmup, then a
decay profile. Everything the learning-rate / batch-ramp equivalence needs is a function of
samples (tokens), not steps, because steps change once the batch grows (Seesaw section 3.2,
pitfall P2). With ``S`` the sample budget, ``W`` the warmup samples and ``u = (s - W)/(S - W)``
the post-warmup progress, an :class:`LRSchedule` is

    lr(s) = lr0 * (a0 + (1 - a0) s / W)      for s < W    (linear warmup from a0 * lr0)
    lr(s) = lr0 * r(u)                        for s >= W   (the decay profile, r(0) = 1)

The profiles here (seesaw.md section 3.3; critical_batch_and_peers.md Part 2):

- constant ``r = 1``; step decay ``r = factor^-(number of milestones <= s)``;
- exponential ``r = f^u``; linear ``r = 1 - (1 - f) u``;
- WSD (warmup-stable-decay) ``r = 1`` until ``u = 1 - D``, then linear (or cosine) to ``f``;
- quarter cosine ``r = f + (1 - f) cos(pi u / 2)`` (Seesaw Lemma 1 has ``f = 0``);
- half cosine ``r = f + (1 - f) (1 + cos(pi u)) / 2``; with a 10% warmup from ``0.1 lr0`` and
  ``f = 0.1`` this is the OLMo ``CosWithWarmup`` schedule of the Seesaw runs
  (:func:`olmo_cosine_lr`).

Accounting (seesaw.md section 3.3, "General formula"): a batch ramp that follows the base
with batch ``B(s) = B0 * r(s)^-q`` takes ``(1/B0) * integral r^q ds`` serial steps, so its
step ratio to the base is ``mean_s r(s)^q`` (warmup counted at ``r = 1``: the ramp starts
after warmup) and the continuous-limit step reduction is ``1 - mean r^q``. For Seesaw
(``q = 1``) that is ``1 - 2/pi`` for the quarter cosine (Lemma 1), ``1/2`` for the half
cosine to 0 and ``0.405`` for the OLMo schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import jax.numpy as jnp
import numpy as np
from scipy.integrate import quad

from ._validation import check_int, check_scalar
from .schedules import Schedule

__all__ = [
    "LRSchedule",
    "constant_lr",
    "step_lr",
    "exponential_lr",
    "linear_lr",
    "wsd_lr",
    "quarter_cosine_lr",
    "half_cosine_lr",
    "olmo_cosine_lr",
]

# Largest per-step schedule materialised (8 bytes per step per array).
_MAX_STEPS = 50_000_000
# Grid used to bracket the first crossing of a level before bisection (milestones()).
_GRID = 8193


@dataclass(frozen=True, eq=False)
class LRSchedule:
    """A base learning-rate schedule ``lr(s)`` over ``s in [0, total_samples]`` samples.

    Build one with the factories of this module (:func:`olmo_cosine_lr`, ...). Attributes:

    Attributes:
        name: the profile's name (``"half_cosine"``, ...).
        lr0: peak learning rate.
        total_samples: the sample (token) budget ``S``.
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
    total_samples: float
    warmup_samples: float
    warmup_start: float
    decay: Callable = field(repr=False)
    breakpoints: tuple = ()
    params: dict = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------- evaluation
    def progress(self, samples) -> np.ndarray:
        """Post-warmup progress ``u = clip((s - W) / (S - W), 0, 1)``."""
        s = np.asarray(samples, dtype=np.float64)
        return np.clip((s - self.warmup_samples) / (self.total_samples - self.warmup_samples), 0.0, 1.0)

    def ratio(self, samples) -> np.ndarray:
        """``lr(s) / lr0`` including the warmup (module docstring)."""
        s = np.asarray(samples, dtype=np.float64)
        r = np.asarray(self.decay(self.progress(s), np), dtype=np.float64)
        if self.warmup_samples > 0:
            warm = self.warmup_start + (1.0 - self.warmup_start) * s / self.warmup_samples
            r = np.where(s < self.warmup_samples, warm, r)
        return r

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
        batch ``B0 r^-q`` (``q = ln beta / ln gamma``; Seesaw and the pure SGD ramp have
        ``q = 1``). Computed by adaptive quadrature (``scipy.integrate.quad``) split at the
        profile's breakpoints, accurate to about 1e-12.
        """
        q = check_scalar("q", q, low=0.0)
        w = self.warmup_samples / self.total_samples
        pts = [0.0, *sorted(b for b in self.breakpoints if 0.0 < b < 1.0), 1.0]
        f = lambda u: float(self.decay(np.array([u]), np)[0]) ** q  # noqa: E731
        integral = sum(quad(f, a, b, limit=200, epsabs=1e-14, epsrel=1e-13)[0] for a, b in zip(pts[:-1], pts[1:]))
        return w + (1.0 - w) * integral

    def continuous_reduction(self, q: float = 1.0) -> float:
        """Continuous-limit serial-step reduction ``1 - mean_s r(s)^q`` (seesaw.md section 3.3)."""
        return 1.0 - self.mean_ratio(q)

    def stepwise_reduction(self, cut_factor: float, beta: float | None = None) -> float:
        """Step reduction of the discretised ramp in the limit ``B0 << S`` (no flooring, no cap).

        The ramp's batch is ``B0 beta^k(s)`` with ``k(s)`` the number of milestones
        (:meth:`milestones`) at or before ``s``, so its step ratio to the base is
        ``mean_s beta^-k(s)`` and the reduction is ``1 - mean_s beta^-k(s)``; ``beta`` defaults to
        ``cut_factor`` (Seesaw, or Smith's pure SGD ramp). For the OLMo schedule with cut factor
        1.1 this is 0.3845 (against 0.405 continuous; seesaw.md section 3.3).
        """
        gamma = check_scalar("cut_factor", cut_factor, low=1.0, low_open=True)
        beta = gamma if beta is None else check_scalar("beta", beta, low=1.0)
        edges = np.concatenate([[0.0], self.milestones(gamma).astype(np.float64), [self.total_samples]])
        k = np.arange(edges.size - 1, dtype=np.float64)
        return 1.0 - float(np.sum(np.diff(edges) * beta**-k)) / self.total_samples

    # ----------------------------------------------------------------- discretisation
    def milestones(self, cut_factor: float, *, max_cuts: int = 10_000) -> np.ndarray:
        """Samples where the decay profile first falls to ``gamma^-k``, ``k = 1, 2, ...``.

        ``s_k = W + round((S - W) u_k)`` with ``u_k`` the first ``u`` where
        ``r(u) <= gamma^-k`` (seesaw.md section 3.2, the official ``get_decay_tokens``: for the
        half cosine ``u_k = arccos(2 (gamma^-k - f)/(1 - f) - 1) / pi``). Cuts stop at
        ``k_max = floor(log r_min / log(1/gamma))`` or when a milestone reaches the budget
        (a profile that decays to 0 crosses every level, ever closer to the end).

        Returns:
            Integer array of milestones in samples, non-decreasing.
        """
        gamma = check_scalar("cut_factor", cut_factor, low=1.0, low_open=True)
        max_cuts = check_int("max_cuts", max_cuts, low=1)
        span = self.total_samples - self.warmup_samples
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
        return s_k[s_k < self.total_samples].round().astype(np.int64)

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
        if per_step > self.total_samples:
            raise ValueError(
                f"the budget total_samples ({self.total_samples:.6g}) is smaller than one batch ({per_step} samples)"
            )
        steps = int(np.ceil(self.total_samples / per_step - 1e-12))
        if steps > _MAX_STEPS:
            raise ValueError(
                f"the run would take {steps:,} steps at batch {batch}; more than {_MAX_STEPS:,} cannot be "
                f"materialised as a per-step schedule (use a larger batch or a smaller total_samples)"
            )
        seen = np.arange(steps, dtype=np.float64) * per_step
        return Schedule(self(seen), np.full(steps, batch))

    def optax_schedule(self, batch: int, tokens_per_sample: int = 1):
        """The base learning rate as an ``optax`` schedule ``step -> lr`` at constant ``batch``.

        A jittable function of the integer step count: ``lr(step * batch * tokens_per_sample)``.
        """
        batch = check_int("batch", batch, low=1) * check_int("tokens_per_sample", tokens_per_sample, low=1)
        lr0, a0, w, s_tot = self.lr0, self.warmup_start, self.warmup_samples, self.total_samples
        decay = self.decay

        def schedule(count):
            s = jnp.asarray(count) * batch
            u = jnp.clip((s - w) / (s_tot - w), 0.0, 1.0)
            r = decay(u, jnp)
            if w > 0:
                r = jnp.where(s < w, a0 + (1.0 - a0) * s / w, r)
            return lr0 * r

        return schedule

    def describe(self) -> dict:
        """JSON-ready description: name, lr0, budget, warmup and the factory's parameters."""
        return {
            "name": self.name,
            "lr0": self.lr0,
            "total_samples": self.total_samples,
            "warmup_samples": self.warmup_samples,
            "warmup_start": self.warmup_start,
            **self.params,
        }


# --------------------------------------------------------------------------- factories
def _common(lr0, total_samples, warmup, warmup_start):
    lr0 = check_scalar("lr0", lr0, low=0.0, low_open=True)
    total = check_scalar("total_samples", total_samples, low=0.0, low_open=True)
    warmup = check_scalar("warmup", warmup, low=0.0, high=1.0, high_open=True)
    a0 = check_scalar("warmup_start", warmup_start, low=0.0, high=1.0)
    return lr0, total, float(np.round(warmup * total)), a0


def _fraction(name, f, *, allow_zero=True):
    return check_scalar(name, f, low=0.0, high=1.0, low_open=not allow_zero)


def constant_lr(lr0: float, total_samples: float, *, warmup: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Constant ``r(u) = 1`` (after an optional linear warmup).

    Args:
        lr0: learning rate.
        total_samples: sample budget ``S``.
        warmup: warmup fraction of the budget, in ``[0, 1)``.
        warmup_start: the warmup starts at ``warmup_start * lr0``.
    """
    lr0, total, w, a0 = _common(lr0, total_samples, warmup, warmup_start)
    return LRSchedule("constant", lr0, total, w, a0, lambda u, xp: xp.ones_like(u * 1.0), (), {"warmup": warmup})


def step_lr(
    lr0: float, total_samples: float, milestones: Sequence[float], factor: float = 2.0, *,
    warmup: float = 0.0, warmup_start: float = 0.0,
) -> LRSchedule:
    """Step decay: ``lr`` divided by ``factor`` at each milestone, milestones in **samples**.

    ``r(s) = factor^-(number of milestones <= s)``. Milestones must lie in ``[W, S)``.
    """
    lr0, total, w, a0 = _common(lr0, total_samples, warmup, warmup_start)
    factor = check_scalar("factor", factor, low=1.0, low_open=True)
    ms = np.sort(np.asarray([check_scalar("milestones", m, low=0.0) for m in milestones], dtype=np.float64))
    if ms.size and (ms[0] < w or ms[-1] >= total):
        raise ValueError(f"milestones must lie in [warmup samples {w:.6g}, total_samples {total:.6g}), got {ms.tolist()}")
    us = (ms - w) / (total - w)

    def decay(u, xp):
        cuts = xp.searchsorted(xp.asarray(us), u, side="right")
        return xp.power(factor, -(cuts * 1.0))

    return LRSchedule("step", lr0, total, w, a0, decay, tuple(us.tolist()),
                      {"milestones": ms.tolist(), "factor": factor, "warmup": warmup})


def exponential_lr(lr0: float, total_samples: float, final_fraction: float = 0.1, *,
                   warmup: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Exponential decay ``r(u) = f^u`` from ``lr0`` to ``f * lr0`` (``f > 0``)."""
    lr0, total, w, a0 = _common(lr0, total_samples, warmup, warmup_start)
    f = _fraction("final_fraction", final_fraction, allow_zero=False)
    return LRSchedule("exponential", lr0, total, w, a0, lambda u, xp: xp.power(f, u), (), {"final_fraction": f, "warmup": warmup})


def linear_lr(lr0: float, total_samples: float, final_fraction: float = 0.0, *,
              warmup: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Linear decay ``r(u) = 1 - (1 - f) u``; continuous-limit reduction ``(1 - f)/2`` (no warmup)."""
    lr0, total, w, a0 = _common(lr0, total_samples, warmup, warmup_start)
    f = _fraction("final_fraction", final_fraction)
    return LRSchedule("linear", lr0, total, w, a0, lambda u, xp: 1.0 - (1.0 - f) * u, (), {"final_fraction": f, "warmup": warmup})


def wsd_lr(lr0: float, total_samples: float, decay_fraction: float = 0.2, final_fraction: float = 0.0, *,
           shape: str = "linear", warmup: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Warmup-stable-decay: ``r = 1`` until ``u = 1 - D``, then ``linear`` or ``cosine`` to ``f``.

    With ``v = (u - 1 + D)/D``: linear ``r = 1 - (1 - f) v``; cosine ``r = f + (1 - f)(1 + cos pi v)/2``.
    """
    lr0, total, w, a0 = _common(lr0, total_samples, warmup, warmup_start)
    d = check_scalar("decay_fraction", decay_fraction, low=0.0, high=1.0, low_open=True)
    f = _fraction("final_fraction", final_fraction)
    if shape not in ("linear", "cosine"):
        raise ValueError(f"shape must be 'linear' or 'cosine', got {shape!r}")

    def decay(u, xp):
        v = xp.clip((u - (1.0 - d)) / d, 0.0, 1.0)
        if shape == "linear":
            return 1.0 - (1.0 - f) * v
        return f + (1.0 - f) * 0.5 * (1.0 + xp.cos(np.pi * v))

    return LRSchedule("wsd", lr0, total, w, a0, decay, (1.0 - d,),
                      {"decay_fraction": d, "final_fraction": f, "shape": shape, "warmup": warmup})


def quarter_cosine_lr(lr0: float, total_samples: float, final_fraction: float = 0.0, *,
                      warmup: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Quarter-period cosine ``r(u) = f + (1 - f) cos(pi u / 2)`` (Seesaw Lemma 1 with ``f = 0``).

    Continuous-limit Seesaw reduction with ``f = 0`` and no warmup: ``1 - 2/pi`` (Lemma 1).
    """
    lr0, total, w, a0 = _common(lr0, total_samples, warmup, warmup_start)
    f = _fraction("final_fraction", final_fraction)
    return LRSchedule("quarter_cosine", lr0, total, w, a0, lambda u, xp: f + (1.0 - f) * xp.cos(0.5 * np.pi * u), (),
                      {"final_fraction": f, "warmup": warmup})


def half_cosine_lr(lr0: float, total_samples: float, final_fraction: float = 0.0, *,
                   warmup: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Half-period cosine ``r(u) = f + (1 - f)(1 + cos(pi u))/2``; reduction ``(1 - f)/2`` (no warmup)."""
    lr0, total, w, a0 = _common(lr0, total_samples, warmup, warmup_start)
    f = _fraction("final_fraction", final_fraction)
    return LRSchedule("half_cosine", lr0, total, w, a0, lambda u, xp: f + (1.0 - f) * 0.5 * (1.0 + xp.cos(np.pi * u)), (),
                      {"final_fraction": f, "warmup": warmup})


def olmo_cosine_lr(lr0: float, total_samples: float, final_fraction: float = 0.1, *,
                   warmup: float = 0.1, warmup_start: float = 0.1) -> LRSchedule:
    """The Seesaw runs' schedule: OLMo ``CosWithWarmup`` (seesaw.md section 3.2).

    Linear warmup from ``0.1 lr0`` to ``lr0`` over the first 10% of the samples, then the half
    cosine to ``0.1 lr0``. Continuous-limit Seesaw reduction ``1 - (0.1 + 0.9 * 0.55) = 0.405``;
    with cut factor 1.1 the discretised ramp saves 38.4% (seesaw.md section 3.3).
    """
    s = half_cosine_lr(lr0, total_samples, final_fraction, warmup=warmup, warmup_start=warmup_start)
    return LRSchedule("olmo_cosine", s.lr0, s.total_samples, s.warmup_samples, s.warmup_start, s.decay, (), s.params)
