"""Critical batch size and the optimal learning rate versus batch and data budget.

Four measurements on noisy linear regression, each computed on whole grids of schedules in
one vmapped call (``bt.expected_risk`` / :func:`batchramp_theory.noise_along` for the exact
recursions, ``bt.simulate`` for Adam), one module each:

- :mod:`.tradeoff`: McCandlish's steps-versus-samples trade-off (McCandlish et al. 2018,
  arXiv 1812.06162, section 2): ``S(B)`` and ``E(B) = B S(B)`` to reach a target, and the fit of
  ``(S/S_min - 1)(E/E_min - 1) = 1``, ``B_crit = E_min / S_min``, against ``B_noise``.
- :mod:`.budget`: ``B_crit`` against the data budget ``D = E_min``, fitted ``B_crit ~ D^a``,
  against Time Transfer's ``a = 1`` (arXiv 2410.05838) and the constant-LR FSL ``a = s / (1 + s)``.
- :mod:`.lr_sweep`: the optimal constant learning rate ``eta*(B, D)`` at a fixed budget (SGD
  ``~ B``, NSGD ``~ sqrt(B)``, Adam measured), the optimal batch and the LR sensitivity.
- :mod:`.seesaw_tracking`: the base batch at which Seesaw (``lr / sqrt 2``, ``batch x 2``
  instead of ``lr / 2``, NSGD) stops tracking learning-rate decay, against ``B_noise``.

Shared: :mod:`.ladders` (batch ladders, stability-scaled LR grids) and
:mod:`batchramp_theory.fitting` (hitting steps, power-law fits, parabolic minima; re-exported
here as before). Formulas, derivations and measured numbers: docs/critical_batch.md.
"""

from ..fitting import PowerFit, fit_power, hitting_steps
from .budget import BudgetScaling, critical_batch_vs_budget
from .ladders import stability_lr_grid
from .lr_sweep import LRSweep, lr_sweep
from .seesaw_tracking import SeesawTracking, seesaw_pair, seesaw_tracking
from .tradeoff import Tradeoff, TradeoffFit, fit_tradeoff, greedy_schedules, tradeoff

__all__ = [
    "hitting_steps",
    "TradeoffFit",
    "fit_tradeoff",
    "Tradeoff",
    "tradeoff",
    "greedy_schedules",
    "PowerFit",
    "fit_power",
    "BudgetScaling",
    "critical_batch_vs_budget",
    "LRSweep",
    "lr_sweep",
    "stability_lr_grid",
    "SeesawTracking",
    "seesaw_pair",
    "seesaw_tracking",
]
