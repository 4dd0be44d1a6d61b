"""The learning-rate / batch-ramp transform (Smith et al. 2017; Seesaw, arXiv 2510.14717).

**The rule.** Wherever a base schedule cuts the learning rate by ``gamma > 1``, cut it by
``alpha`` instead and multiply the batch by ``beta``, with

    alpha * beta       = gamma     (SGD line, Theorem 1: equal alpha*beta, equal samples per phase)
    alpha * sqrt(beta) = gamma     (normalised-SGD / Adam line, Corollary 1)

Named points (:func:`lr_decay_rule`, :func:`batch_ramp_rule`, :func:`seesaw_rule`): pure LR
decay ``(gamma, 1)``; the pure batch ramp of Smith et al. ``(1, gamma)`` on the SGD line;
Seesaw ``(sqrt(gamma), gamma)``, the most aggressive NSGD point allowed by Lemma 4
(``alpha >= sqrt(beta)``; below it the effective SGD learning rate ``lr sqrt(B)`` grows at
every cut and the reduced model diverges).

**Discretisation** (seesaw.md section 3.2, the official ``StepCosineHalfWithWarmup`` +
``FastBSScheduler``): milestones are the samples where the base learning rate first falls
to ``lr0 gamma^-k`` (:meth:`LRSchedule.milestones`). The run starts at ``(lr(s), B0)`` with
the base warmup; at the start of each step, if the samples seen have reached the next
milestone, one milestone is consumed (at most one per step): a float batch accumulator is
multiplied by ``beta`` and the batch becomes ``floor`` of it (``rounding="olmo"`` also
reproduces the repo's hard-coded ``ceil`` when ``floor % 32 == 1``), and the learning rate
is divided by ``alpha``. An optional ``max_batch`` caps the batch: the part of the cut the
batch cannot take falls back to learning-rate decay on the same line
(``alpha' = gamma / beta'`` or ``gamma / sqrt(beta')``). The run stops once the budget is
reached, so the last step may overshoot it by less than one batch (the OLMo trainer does the
same).

**Accounting.** Serial steps of base (constant ``B0``, ``ceil(S/B0)``) and ramp, the step
reduction ``1 - ramp/base``, and the continuous-limit reduction ``1 - mean_s r(s)^q`` with
``q = ln beta / ln gamma`` (seesaw.md section 3.3).

**Phases** (Theorem 1): :func:`phase_schedule` builds the phase-indexed schedules
``(lr alpha^-k, B beta^k)`` with a prescribed number of samples per phase, which is how
the equivalence checks compare schedules at equal samples.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple, Sequence

import jax.numpy as jnp
import numpy as np

from ._validation import check_int, check_scalar
from .schedules import LRSchedule
from .schedules import Schedule

__all__ = [
    "RampRule",
    "ramp_rule",
    "lr_decay_rule",
    "batch_ramp_rule",
    "seesaw_rule",
    "RampAccounting",
    "RampPlan",
    "ramp_schedule",
    "PhasedSchedule",
    "phase_schedule",
    "phase_end_risks",
    "warm_start_steps",
    "LINES",
]

LINES = ("sgd", "nsgd")
# Relative tolerance for "on the line": the user types alpha, beta to a few digits
# (e.g. 2**0.75 = 1.6818), so exact equality is too strict; 1e-4 still rejects any real mismatch.
_LINE_RTOL = 1e-4


class RampRule(NamedTuple):
    """One point ``(alpha, beta)`` of the equivalence family of a base cut ``gamma``.

    Attributes:
        alpha: learning-rate divisor per cut.
        beta: batch multiplier per cut.
        gamma: the base schedule's cut factor.
        line: ``"sgd"`` (``alpha beta = gamma``) or ``"nsgd"`` (``alpha sqrt(beta) = gamma``).
    """

    alpha: float
    beta: float
    gamma: float
    line: str

    @property
    def q(self) -> float:
        """``ln beta / ln gamma``: the ramp's batch is ``B0 r^-q`` in the continuous limit."""
        return math.log(self.beta) / math.log(self.gamma)

    @property
    def admissible(self) -> bool:
        """Whether the rule is inside the theory's range.

        NSGD line: ``alpha >= sqrt(beta)`` (Lemma 4; equality is Seesaw). SGD line:
        ``alpha >= 1`` (the learning rate never grows; ``alpha = 1`` is Smith's pure ramp).
        """
        tol = 1e-9
        if self.line == "nsgd":
            return self.alpha >= math.sqrt(self.beta) * (1 - tol)
        return self.alpha >= 1 - tol

    @property
    def effective_sgd_alpha(self) -> float:
        """The SGD-equivalent learning-rate divisor: ``alpha / sqrt(beta)`` for NSGD (Corollary 1)."""
        return self.alpha / math.sqrt(self.beta) if self.line == "nsgd" else self.alpha

    def label(self) -> str:
        return f"({self.alpha:.4g}, {self.beta:.4g})"


def ramp_rule(gamma: float, *, alpha: float | None = None, beta: float | None = None, line: str = "nsgd") -> RampRule:
    """The rule on ``line`` with base cut ``gamma``, from ``alpha`` or ``beta`` (or both, checked).

    ``alpha beta = gamma`` (``line="sgd"``) or ``alpha sqrt(beta) = gamma`` (``"nsgd"``).

    Raises:
        ValueError: ``gamma <= 1``, ``beta < 1``, ``alpha <= 0``, neither given, or
            ``(alpha, beta)`` off the line (relative tolerance 1e-4).

    Examples:
        >>> import batchramp_theory as bt
        >>> r = bt.ramp_rule(2.0, beta=2.0, line="nsgd")
        >>> round(r.alpha, 6), r.admissible
        (1.414214, True)
    """
    gamma = check_scalar("gamma (the base cut factor)", gamma, low=1.0, low_open=True)
    if line not in LINES:
        raise ValueError(f"line must be one of {LINES}, got {line!r}")
    p = 1.0 if line == "sgd" else 0.5
    if alpha is None and beta is None:
        raise ValueError("give alpha or beta (or both) to define the rule")
    if beta is not None:
        beta = check_scalar("beta", beta, low=1.0)
    if alpha is not None:
        alpha = check_scalar("alpha", alpha, low=0.0, low_open=True)
    if alpha is None:
        alpha = gamma / beta**p
    elif beta is None:
        beta = (gamma / alpha) ** (1.0 / p)
        if beta < 1.0 - 1e-12:
            raise ValueError(f"alpha ({alpha:.6g}) > gamma ({gamma:.6g}) would need beta < 1 (a shrinking batch)")
        beta = max(beta, 1.0)
    else:
        prod = alpha * beta**p
        if abs(prod - gamma) > _LINE_RTOL * gamma:
            form = "alpha*beta" if line == "sgd" else "alpha*sqrt(beta)"
            raise ValueError(
                f"alpha={alpha:.6g}, beta={beta:.6g} is off the {line.upper()} line: {form} = {prod:.6g} "
                f"but gamma = {gamma:.6g}"
            )
    return RampRule(float(alpha), float(beta), gamma, line)


def lr_decay_rule(gamma: float, line: str = "nsgd") -> RampRule:
    """Pure learning-rate decay ``(gamma, 1)``: the base itself (on either line)."""
    return ramp_rule(gamma, alpha=gamma, beta=1.0, line=line)


def batch_ramp_rule(gamma: float, line: str = "sgd") -> RampRule:
    """Pure batch ramp at constant learning rate, ``alpha = 1``.

    SGD line: ``(1, gamma)`` (Smith et al. 2017). NSGD line: ``(1, gamma^2)``, which violates
    Lemma 4 (``alpha < sqrt(beta)``) and is a negative control.
    """
    return ramp_rule(gamma, alpha=1.0, line=line)


def seesaw_rule(gamma: float) -> RampRule:
    """Seesaw ``(sqrt(gamma), gamma)`` on the NSGD line (Algorithm 1; Remark 1)."""
    return ramp_rule(gamma, alpha=math.sqrt(gamma), beta=gamma, line="nsgd")


# --------------------------------------------------------------------------- the transform
class RampAccounting(NamedTuple):
    """Samples and serial steps of a ramp and its base (seesaw.md section 3.3).

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


def _round_batch(cur_f: float, rounding: str, slack: float = 0.0) -> int:
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

    The construction is the module docstring's (official repo semantics, seesaw.md 3.2):
    milestones where the base first falls to ``lr0 gamma^-k`` (in samples); at most one
    milestone consumed per step; float batch accumulator times ``beta``, floored; learning
    rate divided by ``alpha``; the base warmup is kept; the run stops once ``S`` samples were
    processed. ``rule = lr_decay_rule(gamma)`` gives the base's step-decay approximation.

    Args:
        base: the base learning-rate schedule (in samples).
        batch: initial batch ``B0``.
        rule: a :class:`RampRule`; its ``gamma`` is the cut factor.
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
    if b0 * seq > base.total_samples:
        raise ValueError(
            f"the budget total_samples ({base.total_samples:.6g}) is smaller than one batch "
            f"(batch {b0} x tokens_per_sample {seq})"
        )
    if rounding not in ("floor", "olmo"):
        raise ValueError(f"rounding must be 'floor' or 'olmo', got {rounding!r}")
    if max_batch is not None:
        max_batch = check_int("max_batch", max_batch, low=b0)
    p = 1.0 if rule.line == "sgd" else 0.5
    base_sched = base.to_schedule(b0, seq)  # first: it rejects budgets too long to materialise
    milestones = base.milestones(rule.gamma)
    n = milestones.size
    budget = base.total_samples
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
            beta_eff = rule.beta
            if max_batch is not None and cur_f * rule.beta > max_batch:
                beta_eff = max(max_batch / cur_f, 1.0)
                capped[i] = True
            alpha_eff = rule.alpha if not capped[i] else rule.gamma / beta_eff**p
            cur_f *= beta_eff
            cur = _round_batch(cur_f, rounding)
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
        # The learning rate: base warmup before W, then lr0 * prod(1/alpha) (seesaw.md 3.2).
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
        stepwise_reduction=base.stepwise_reduction(rule.gamma, rule.beta),
        overshoot=int(round(seen - budget)),
    )
    for j in range(n):
        if ms_steps[j] < 0:
            lr_after[j] = np.nan
    return RampPlan(sched, base_sched, base, rule, milestones, ms_steps, lr_after, batch_after, capped, acc, seq)


# --------------------------------------------------------------------------- Theorem 1 phases
class PhasedSchedule(NamedTuple):
    """A phase-indexed schedule (Theorem 1) and where its phases end.

    Attributes:
        schedule: the per-step :class:`Schedule`.
        phase_end_steps: ``(K,)`` step count at the end of each phase (index into the risk curve).
        phase_end_samples: ``(K,)`` samples processed at the end of each phase.
        lrs, batches: ``(K,)`` the phase learning rates and batch sizes.
    """

    schedule: Schedule
    phase_end_steps: np.ndarray
    phase_end_samples: np.ndarray
    lrs: np.ndarray
    batches: np.ndarray


def phase_schedule(lr: float, batch: int, alpha: float, beta: float, phase_samples: Sequence[float]) -> PhasedSchedule:
    """Theorem 1's schedule ``(lr alpha^-k, B beta^k)``, phase ``k`` processing ``S_k`` samples.

    The batch comes from a float accumulator (``floor(B beta^k)``) and phase ``k`` runs
    ``round(S_k / B_k)`` steps, so two schedules built from the same ``phase_samples`` process
    the same samples per phase up to half a batch (exactly, when ``B_k`` divides ``S_k``).
    A common warm start is simply a longer phase 0 (both schedules share ``(lr, B)`` there).

    Raises:
        ValueError: a phase budget smaller than its batch (the phase would need more samples
            than it has), or bad arguments.

    Examples:
        >>> import batchramp_theory as bt
        >>> a = bt.phase_schedule(0.1, 8, 2.0, 1.0, [800, 800, 800])
        >>> b = bt.phase_schedule(0.1, 8, 1.0, 2.0, [800, 800, 800])
        >>> a.phase_end_samples.tolist(), b.phase_end_samples.tolist(), b.phase_end_steps.tolist()
        ([800, 1600, 2400], [800, 1600, 2400], [100, 150, 175])
    """
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    b0 = check_int("batch", batch, low=1)
    alpha = check_scalar("alpha", alpha, low=0.0, low_open=True)
    beta = check_scalar("beta", beta, low=1.0)
    ss = [check_scalar("phase_samples", s, low=0.0, low_open=True) for s in phase_samples]
    if not ss:
        raise ValueError("phase_samples must be non-empty")
    lrs, bs, steps = [], [], []
    cur_f = float(b0)
    for k, s_k in enumerate(ss):
        b_k = _round_batch(cur_f, "floor", slack=1e-12)
        if s_k < b_k:
            raise ValueError(
                f"phase {k} needs at least one batch of {b_k} samples but phase_samples[{k}] = {s_k:.6g}: "
                f"the transform would need more samples than the phase budget"
            )
        lrs.append(lr * alpha ** (-k))
        bs.append(b_k)
        steps.append(int(round(s_k / b_k)))
        cur_f *= beta
    lr_arr = np.repeat(lrs, steps)
    b_arr = np.repeat(bs, steps)
    ends = np.cumsum(steps)
    return PhasedSchedule(
        Schedule(lr_arr, b_arr), ends, np.cumsum(np.asarray(steps) * np.asarray(bs)), np.asarray(lrs), np.asarray(bs)
    )


def warm_start_steps(problem, lr: float, batch: int, optimizer=None, *, level: float = 1.0, max_steps: int = 1 << 20) -> int:
    """Steps of constant ``(lr, batch)`` until the excess risk first falls to ``level * sigma^2``.

    The common warm start of the equivalence checks (Assumption 1: cuts begin only once the
    risk is of order ``sigma^2``; seesaw.md pitfall P5). Computed with the exact recursion on
    doubling horizons.

    Raises:
        ValueError: ``noise = 0``, or the level is not reached within ``max_steps``.
    """
    from .optimizers import SGD
    from .recursions import expected_risk
    from .schedules import constant

    optimizer = SGD() if optimizer is None else optimizer
    sigma2 = float(problem.noise) ** 2
    if sigma2 == 0:
        raise ValueError("warm_start_steps needs noise > 0 (the target level is level * sigma^2)")
    level = check_scalar("level", level, low=0.0, low_open=True)
    if problem.initial_risk <= level * sigma2:
        return 0
    horizon = 256
    while horizon <= max_steps:
        risk = expected_risk(problem, constant(lr, batch, horizon), optimizer)
        hit = np.nonzero(risk <= level * sigma2)[0]
        if hit.size:
            return int(hit[0])
        horizon *= 4
    raise ValueError(f"the excess risk does not reach {level} * sigma^2 within max_steps = {max_steps} steps")


def phase_end_risks(problem, phased, optimizer=None, *, on_divergence: str = "inf", pad_to: int | None = None) -> np.ndarray:
    """Exact expected excess risk at the end of every phase of each :class:`PhasedSchedule`.

    All schedules go through one vmapped :func:`batchramp_theory.expected_risk` call; with
    ``on_divergence="inf"`` (default) a diverged run reads ``inf`` from its divergence on (Lemma 4
    controls rely on it) and the :class:`DivergenceWarning` is silenced. ``pad_to`` pads every
    schedule with ``lr = 0`` steps to a fixed length, so repeated calls with slightly different
    lengths reuse one compilation.

    Returns:
        ``(n, K)`` risks for ``n`` phased schedules of ``K`` phases (``(K,)`` for one).
    """
    from .divergence import DivergenceWarning
    from .optimizers import SGD
    from .recursions import expected_risk

    optimizer = SGD() if optimizer is None else optimizer
    single = isinstance(phased, PhasedSchedule)
    items = [phased] if single else list(phased)
    if not items or not all(isinstance(x, PhasedSchedule) for x in items):
        raise ValueError("phased must be a PhasedSchedule or a non-empty sequence of them")
    scheds = [x.schedule for x in items]
    if pad_to is not None:
        pad_to = check_int("pad_to", pad_to, low=1)
        longest = max(s.steps for s in scheds)
        if pad_to < longest:
            raise ValueError(f"pad_to ({pad_to}) is shorter than the longest schedule ({longest} steps)")
        scheds = [s if s.steps == pad_to else s + Schedule(np.zeros(pad_to - s.steps), 1) for s in scheds]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        risk = np.asarray(expected_risk(problem, scheds, optimizer, on_divergence=on_divergence))
    out = np.stack([risk[i][x.phase_end_steps] for i, x in enumerate(items)])
    return out[0] if single else out
