"""batchramp-theory: learning-rate decay versus batch-size ramps for SGD on noisy linear regression.

Exact recursions and exact-in-distribution Monte Carlo for the theory of Smith et al. 2017,
Seesaw (arXiv 2510.14717), functional scaling laws (arXiv 2509.19189, 2602.14208) and the
critical batch size (arXiv 2410.05838, McCandlish et al. 2018).
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError, version as _version

from .divergence import DivergenceError as DivergenceError, DivergenceWarning as DivergenceWarning
from .optimizers import (
    Adam as Adam,
    Momentum as Momentum,
    NormalizedSGD as NormalizedSGD,
    Optimizer as Optimizer,
    SGD as SGD,
    SignSGD as SignSGD,
)
from .problem import Problem as Problem, excess_risk as excess_risk, power_law_problem as power_law_problem
from .recursions import (
    expected_grad_norm2 as expected_grad_norm2,
    expected_risk as expected_risk,
    make_risk_fn as make_risk_fn,
    second_moments as second_moments,
)
from .sampler import sample_gradient as sample_gradient, sample_gradient_explicit as sample_gradient_explicit
from .schedules import (
    Schedule as Schedule,
    constant as constant,
    cosine as cosine,
    stack_schedules as stack_schedules,
    step_decay as step_decay,
)
from .simulate import simulate as simulate
# Equivalence engine: base LR schedules in samples, the (alpha, beta) transform, Theorem 1 phases.
from .schedules import (
    LRSchedule as LRSchedule,
    constant_lr as constant_lr,
    exponential_lr as exponential_lr,
    half_cosine_lr as half_cosine_lr,
    linear_lr as linear_lr,
    olmo_cosine_lr as olmo_cosine_lr,
    quarter_cosine_lr as quarter_cosine_lr,
    step_lr as step_lr,
    wsd_lr as wsd_lr,
)
from .seesaw import (
    PhasedSchedule as PhasedSchedule,
    RampAccounting as RampAccounting,
    RampPlan as RampPlan,
    RampRule as RampRule,
    batch_ramp_rule as batch_ramp_rule,
    lr_decay_rule as lr_decay_rule,
    phase_end_risks as phase_end_risks,
    phase_schedule as phase_schedule,
    ramp_rule as ramp_rule,
    ramp_schedule as ramp_schedule,
    seesaw_rule as seesaw_rule,
    warm_start_steps as warm_start_steps,
)
# Critical batch size and optimal LR (Time Transfer, McCandlish).
from .gradient_noise import (
    NoiseStats as NoiseStats,
    gradient_covariance as gradient_covariance,
    noise_along as noise_along,
    noise_stats as noise_stats,
    two_batch_estimates as two_batch_estimates,
)
from .critical_batch import (
    BudgetScaling as BudgetScaling,
    LRSweep as LRSweep,
    PowerFit as PowerFit,
    SeesawTracking as SeesawTracking,
    Tradeoff as Tradeoff,
    TradeoffFit as TradeoffFit,
    critical_batch_vs_budget as critical_batch_vs_budget,
    fit_power as fit_power,
    fit_tradeoff as fit_tradeoff,
    greedy_schedules as greedy_schedules,
    hitting_steps as hitting_steps,
    lr_sweep as lr_sweep,
    seesaw_pair as seesaw_pair,
    seesaw_tracking as seesaw_tracking,
    stability_lr_grid as stability_lr_grid,
    tradeoff as tradeoff,
)
# Performance and scale (issue 7): infinite-dimensional quadrature, sharded sweeps.
from .quadrature import mode_sum as mode_sum, power_law_quadrature as power_law_quadrature
from .grid import run_grid_batched as run_grid_batched
from .sharding import (
    MeshPlacement as MeshPlacement,
    device_mesh as device_mesh,
    sharded_expected_risk as sharded_expected_risk,
    sharded_simulate as sharded_simulate,
)
from .stability import is_stable as is_stable, stability_limit as stability_limit

# Functional scaling laws, optimal batch schedules, fast catch-up (the full API is bt.fsl.*).
from . import fsl as fsl
from .fsl import (
    calibrate_power_law as calibrate_power_law,
    catchup as catchup,
    mode_sum_fsl as mode_sum_fsl,
    optimal_batch_schedule as optimal_batch_schedule,
    optimal_two_stage as optimal_two_stage,
    power_law_fsl as power_law_fsl,
)

try:
    __version__ = _version("batchramp-theory")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
