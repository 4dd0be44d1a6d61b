"""The converter: a learning-rate schedule turned into an equivalent batch ramp (Seesaw, arXiv 2510.14717).

**Discretisation** (Seesaw Algorithm 1 as the official ``StepCosineHalfWithWarmup`` +
``FastBSScheduler`` implement it; docs/equivalence.md, section 2.2): milestones are the samples
where the base learning rate first falls to ``lr0 gamma^-k`` (:meth:`LRSchedule.milestones`). The
run starts at ``(lr(s), B0)`` with the base warmup; at the start of each step, if the samples seen
have reached the next milestone, one milestone is consumed (at most one per step): a float batch
accumulator is multiplied by ``beta`` and the batch becomes ``floor`` of it (``rounding="olmo"``
also reproduces the repo's hard-coded ``ceil`` when ``floor % 32 == 1``), and the learning rate is
divided by ``alpha``. An optional ``max_batch`` caps the batch: the part of the cut the batch
cannot take falls back to learning-rate decay on the same line (``alpha' = gamma / beta'`` or
``gamma / sqrt(beta')``). The run stops once the budget is reached, so the last step may overshoot
it by less than one batch (the OLMo trainer does the same).

**Accounting** (docs/equivalence.md, section 2.3): serial steps of base (constant ``B0``,
``ceil(S/B0)``) and ramp, the step reduction ``1 - ramp/base``, and the continuous-limit reduction
``1 - mean_s r(s)^q`` with ``q = ln beta / ln gamma`` (Lemma 1: ``1 - 2/pi`` for the quarter
cosine to 0 with Seesaw's ``q = 1``).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from .._validation import check_int
from ..schedules import LRSchedule
from ..schedules import Schedule
from .rules import RampRule, line_power

__all__ = ["RampAccounting", "RampPlan", "ramp_schedule"]


class RampAccounting(NamedTuple):
    """Samples and serial steps of a ramp and its base (docs/equivalence.md, section 2.3).

    Samples are counted on the base schedule's axis (tokens when ``tokens_per_sample > 1``).

    Attributes:
        budget: the sample budget ``S``.
        base_steps: ``ceil(S / B0)``, the base at constant batch.
        ramp_steps: steps of the transformed run.
        base_samples, ramp_samples: samples actually processed (``>= S``; overshoot < one batch).
        reduction: ``1 - ramp_steps / base_steps``.
        continuous_reduction: ``1 - mean_s r(s)^q``, the limit of infinitely many tiny cuts.
        stepwise_reduction: ``1 - mean_s beta^-k(s)``, the limit ``B0 << S`` of these cuts
            (no flooring, no cap; :meth:`LRSchedule.stepwise_reduction`).
        overshoot: ``ramp_samples - S``.
    """

    budget: float
    base_steps: int
    ramp_steps: int
    base_samples: int
    ramp_samples: int
    reduction: float
    continuous_reduction: float
    stepwise_reduction: float
    overshoot: int


class RampPlan(NamedTuple):
    """A base schedule turned into a batch ramp (:func:`ramp_schedule`).

    Attributes:
        schedule: the transformed run as a core :class:`Schedule` (per-step lr and batch).
        base: the base run at constant ``B0`` as a :class:`Schedule`.
        base_lr: the :class:`LRSchedule` it came from.
        rule: the :class:`RampRule`.
        milestones: ``(n,)`` samples (base axis) where the base first falls to ``lr0 gamma^-k``.
        milestone_steps: ``(n,)`` step index at which each milestone was applied (``-1``: never
            reached before the budget ran out).
        lr_after: ``(n,)`` learning rate from each milestone on.
        batch_after: ``(n,)`` batch size from each milestone on.
        capped: ``(n,)`` whether the batch cap turned (part of) that cut into LR decay.
        accounting: the :class:`RampAccounting`.
        tokens_per_sample: ``L``: each batch element is ``L`` units of the base's axis.
    """

    schedule: Schedule
    base: Schedule
    base_lr: LRSchedule
    rule: RampRule
    milestones: np.ndarray
    milestone_steps: np.ndarray
    lr_after: np.ndarray
    batch_after: np.ndarray
    capped: np.ndarray
    accounting: RampAccounting
    tokens_per_sample: int = 1

    # -- export for real training ---------------------------------------------------
    def lr_schedule(self):
        """The ramp's learning rate as an ``optax`` schedule ``step -> lr`` (jittable).

        Steps past the end keep the final learning rate.
        """
        lrs = jnp.asarray(self.schedule.lr)
        last = self.schedule.steps - 1

        def schedule(count):
            return lrs[jnp.clip(jnp.asarray(count), 0, last)]

        return schedule

    def batch_at_step(self):
        """Factory: ``f(step) -> batch`` (NumPy, vectorised; steps past the end keep the last batch)."""
        b = np.asarray(self.schedule.batch)
        last = b.size - 1

        def f(step):
            return b[np.clip(np.asarray(step, dtype=np.int64), 0, last)]

        return f

    def batch_at_samples(self):
        """Factory: ``f(samples) -> batch`` of the step that starts after ``samples`` were seen.

        ``samples`` is on the base schedule's axis (tokens when ``tokens_per_sample > 1``); the
        lookup uses the samples seen before each step, and samples beyond the run keep the last
        batch.
        """
        b = np.asarray(self.schedule.batch)
        seen = self.schedule.samples_seen[:-1].astype(np.float64) * self.tokens_per_sample

        def f(samples):
            idx = np.searchsorted(seen, np.asarray(samples, dtype=np.float64), side="right") - 1
            return b[np.clip(idx, 0, b.size - 1)]

        return f

    def table(self) -> list[dict]:
        """One row per milestone: ``k``, ``samples``, ``step``, ``lr``, ``batch``, ``capped``."""
        return [
            {"k": i + 1, "samples": int(m), "step": int(st), "lr": float(lr), "batch": int(b), "capped": bool(c)}
            for i, (m, st, lr, b, c) in enumerate(
                zip(self.milestones, self.milestone_steps, self.lr_after, self.batch_after, self.capped)
            )
        ]


def round_batch(cur_f: float, rounding: str, slack: float = 0.0) -> int:
    """``floor`` of the batch accumulator (``"olmo"``: ``ceil`` when ``floor % 32 == 1``, as the repo).

    ``slack`` (relative) lets products that are integers in exact arithmetic
    (``8 * sqrt(2) * sqrt(2)``) floor to that integer; the converter uses 0 to match the repo bit
    for bit.
    """
    fl = math.floor(cur_f * (1.0 + slack))
    if rounding == "olmo" and fl % 32 == 1:
        return int(math.ceil(cur_f))
    return int(fl)


def ramp_schedule(
    base: LRSchedule,
    batch: int,
    rule: RampRule,
    *,
    max_batch: int | None = None,
    rounding: str = "floor",
    tokens_per_sample: int = 1,
    strict: bool = False,
) -> RampPlan:
    """Turn ``base`` (run at constant ``batch``) into the ramp ``rule`` prescribes.

    The construction is the module docstring's (official repo semantics, docs/equivalence.md 2.2):
    milestones where the base first falls to ``lr0 gamma^-k`` (in samples); at most one
    milestone consumed per step; float batch accumulator times ``beta``, floored; learning
    rate divided by ``alpha``; the base warmup is kept; the run stops once ``S`` samples were
    processed. ``rule = lr_decay_rule(gamma)`` gives the base's step-decay approximation.
    The samples processed are counted exactly (integers), so the step counts match the official
    repo's bit for bit.

    Args:
        base: the base learning-rate schedule (in samples).
        batch: initial batch ``B0``.
        rule: a :class:`RampRule`; its ``cut`` is the base's cut factor ``gamma``.
        max_batch: optional cap; beyond it the cut falls back to learning-rate decay.
        rounding: ``"floor"`` or ``"olmo"`` (floor, but ceil when ``floor % 32 == 1``).
        tokens_per_sample: ``L``, when ``base`` is measured in tokens and a batch element is a
            sequence of ``L`` tokens (the converter's case); each step then advances the base's
            axis by ``B L``. Batches are always in samples (sequences).
        strict: raise instead of warning when the ramp would need more samples than the
            budget in one step (a milestone batch larger than the samples left).

    Returns:
        A :class:`RampPlan`.

    Examples:
        >>> import batchramp_theory as bt
        >>> base = bt.olmo_cosine_lr(3e-3, 3.3e9 / 1024)          # budget in sequences
        >>> plan = bt.ramp_schedule(base, 256, bt.seesaw_rule(1.1))
        >>> plan.accounting.base_steps, plan.accounting.ramp_steps
        (12589, 7756)
    """
    if not isinstance(base, LRSchedule):
        raise ValueError(f"base must be an LRSchedule, got {type(base).__name__}")
    if not isinstance(rule, RampRule):
        raise ValueError(f"rule must be a RampRule (see bt.ramp_rule), got {type(rule).__name__}")
    b0 = check_int("batch", batch, low=1)
    seq = check_int("tokens_per_sample", tokens_per_sample, low=1)
    if b0 * seq > base.budget:
        raise ValueError(
            f"the budget ({base.budget:.6g} samples) is smaller than one batch "
            f"(batch {b0} x tokens_per_sample {seq})"
        )
    if rounding not in ("floor", "olmo"):
        raise ValueError(f"rounding must be 'floor' or 'olmo', got {rounding!r}")
    if max_batch is not None:
        max_batch = check_int("max_batch", max_batch, low=b0)
    p = line_power(rule.line)
    base_sched = base.to_schedule(b0, seq)  # first: it rejects budgets too long to materialise
    milestones = base.milestones(rule.cut)
    n = milestones.size
    budget = base.budget
    lr0, w = base.lr0, base.warmup_samples

    lr_chunks, batch_chunks, n_steps = [], [], 0
    ms_steps = np.full(n, -1, dtype=np.int64)
    lr_after = np.zeros(n)
    batch_after = np.zeros(n, dtype=np.int64)
    capped = np.zeros(n, dtype=bool)
    seen, cur_f, cur, lr_scale, i = 0, float(b0), b0, 1.0, 0  # seen: exact integer samples
    too_big = []
    while seen < budget:
        # At the start of a step: consume at most one due milestone (the repo's FastBSScheduler).
        if i < n and seen >= milestones[i]:
            beta_eff = rule.batch_factor
            if max_batch is not None and cur_f * rule.batch_factor > max_batch:
                beta_eff = max(max_batch / cur_f, 1.0)
                capped[i] = True
            # The part of the cut the capped batch cannot take is LR decay on the same line.
            alpha_eff = rule.lr_factor if not capped[i] else rule.cut / beta_eff**p
            cur_f *= beta_eff
            cur = round_batch(cur_f, rounding)
            lr_scale /= alpha_eff
            ms_steps[i] = n_steps
            lr_after[i] = lr0 * lr_scale
            batch_after[i] = cur
            if cur * seq > budget - seen:
                too_big.append((i, cur, budget - seen))
            i += 1
        # Then run at constant batch up to the next event (next milestone or the budget), at
        # least one step: the same steps as checking the milestone before every step.
        per_step = cur * seq
        event = min(float(milestones[i]), budget) if i < n else budget
        k = max(1, int(math.ceil((event - seen) / per_step)))
        pos = seen + per_step * np.arange(k, dtype=np.float64)
        # The learning rate: base warmup before W, then lr0 * prod(1/alpha) (docs/equivalence.md 2.2).
        lr_chunks.append(np.where(pos < w, base(pos), lr0 * lr_scale))
        batch_chunks.append(np.full(k, cur, dtype=np.int64))
        n_steps += k
        seen += k * per_step
    if too_big:
        k, b, left = too_big[0]
        msg = (
            f"the ramp needs more samples than the budget: after milestone {k + 1} one step takes "
            f"{b * seq} samples (batch {b}) but only {left:.6g} are left, so the run ends "
            f"{int(round(seen - budget))} samples past the budget {budget:.6g} (set max_batch to cap the batch)"
        )
        if strict:
            raise ValueError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    sched = Schedule(np.concatenate(lr_chunks), np.concatenate(batch_chunks))
    acc = RampAccounting(
        budget=float(budget),
        base_steps=base_sched.steps,
        ramp_steps=sched.steps,
        base_samples=base_sched.samples * seq,
        ramp_samples=int(seen),
        reduction=1.0 - sched.steps / base_sched.steps,
        continuous_reduction=base.continuous_reduction(rule.q),
        stepwise_reduction=base.stepwise_reduction(rule.cut, rule.batch_factor),
        overshoot=int(round(seen - budget)),
    )
    for j in range(n):
        if ms_steps[j] < 0:
            lr_after[j] = np.nan
    return RampPlan(sched, base_sched, base, rule, milestones, ms_steps, lr_after, batch_after, capped, acc, seq)
