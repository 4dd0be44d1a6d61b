"""The learning-rate / batch-ramp transform (Smith et al. 2017; Seesaw, arXiv 2510.14717).

Wherever a base schedule cuts the learning rate by ``gamma > 1``, cut it by ``alpha`` instead and
multiply the batch by ``beta``, with ``alpha beta = gamma`` (SGD, Theorem 1) or
``alpha sqrt(beta) = gamma`` (normalised SGD / Adam, Corollary 1). One module per concept:

- :mod:`.rules`: the ``(alpha, beta)`` rule algebra (:class:`RampRule`, :func:`ramp_rule` and the
  named points :func:`lr_decay_rule`, :func:`batch_ramp_rule`, :func:`seesaw_rule`);
- :mod:`.converter`: an :class:`~batchramp_theory.LRSchedule` turned into a batch ramp with the
  official repo's discretisation and its step accounting (:func:`ramp_schedule`);
- :mod:`.phases`: Theorem 1's phase-indexed schedules and their exact phase-end risks
  (:func:`phase_schedule`, :func:`warm_start_steps`, :func:`phase_end_risks`).

Theory, discretisation and accounting: docs/equivalence.md.
"""

from .converter import RampAccounting, RampPlan, ramp_schedule
from .phases import PhasedSchedule, phase_end_risks, phase_schedule, warm_start_steps
from .rules import LINES, RampRule, batch_ramp_rule, lr_decay_rule, ramp_rule, seesaw_rule

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
