"""batchramp-theory: learning-rate decay versus batch-size ramps for SGD on noisy linear regression.

Exact recursions and exact-in-distribution Monte Carlo for the theory of Smith et al. 2017,
Seesaw (arXiv 2510.14717), functional scaling laws (arXiv 2509.19189, 2602.14208) and the
critical batch size (arXiv 2410.05838, McCandlish et al. 2018). The layers and where each
concept lives: docs/architecture.md. ``__all__`` below is the user-facing API; the full API of
a subpackage is under its name (``bt.fsl``, ``bt.moments``, ``bt.critical_batch``, ...).
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from . import export, fsl, moments, planner
from .critical_batch import (
    BudgetScaling,
    LRSweep,
    SeesawTracking,
    Tradeoff,
    TradeoffFit,
    critical_batch_vs_budget,
    fit_tradeoff,
    greedy_schedules,
    lr_sweep,
    seesaw_pair,
    seesaw_tracking,
    stability_lr_grid,
    tradeoff,
)
from .data import RowSample, load_digits_regression, random_relu_features
from .divergence import DivergenceError, DivergenceWarning
from .fitting import PowerFit, fit_power, hitting_steps, parabolic_min
from .fsl import (
    calibrate_power_law,
    catchup,
    mode_sum_fsl,
    optimal_batch_schedule,
    optimal_two_stage,
    power_law_fsl,
)
from .gradient_noise import NoiseStats, gradient_covariance, noise_along, noise_stats, two_batch_estimates
from .grid import run_grid_batched
from .model_size import WidthStudy, width_study
from .moments import expected_grad_norm2
from .optimizers import SGD, Adam, Momentum, NormalizedSGD, Optimizer, SignSGD
from .placement import Placement
from .planner import Plan, PlanPoint, UnreachableTarget, plan
from .problem import Problem, excess_risk, power_law_problem
from .problem_file import ExponentFit, fit_exponents, load_problem
from .quadrature import mode_sum, power_law_quadrature
from .random_features import RandomFeatureModel, random_features, random_features_problem
from .recursions import expected_risk, make_risk_fn, second_moments
from .sampler import sample_gradient, sample_gradient_explicit, sample_gradient_rows
from .schedules import (
    LRSchedule,
    Schedule,
    constant,
    constant_lr,
    cosine,
    exponential_lr,
    half_cosine_lr,
    linear_lr,
    olmo_cosine_lr,
    quarter_cosine_lr,
    stack_schedules,
    step_decay,
    step_lr,
    wsd_lr,
)
from .seesaw import (
    PhasedSchedule,
    RampAccounting,
    RampPlan,
    RampRule,
    batch_ramp_rule,
    lr_decay_rule,
    phase_end_risks,
    phase_schedule,
    ramp_rule,
    ramp_schedule,
    seesaw_rule,
    warm_start_steps,
)
from .sharding import MeshPlacement, device_mesh, sharded_expected_risk, sharded_simulate
from .simulate import simulate
from .stability import is_stable, stability_limit

__all__ = [
    # The problem and its schedules.
    "Problem", "power_law_problem", "excess_risk", "load_problem", "fit_exponents", "ExponentFit", "power_law_quadrature", "mode_sum",
    "Schedule", "constant", "cosine", "step_decay", "stack_schedules",
    # Problems beyond the power law: random features (the width axis) and real data.
    "RandomFeatureModel", "random_features", "random_features_problem",
    "RowSample", "random_relu_features", "load_digits_regression", "WidthStudy", "width_study",
    # Base learning-rate schedules as functions of samples (the converter's input).
    "LRSchedule", "constant_lr", "step_lr", "exponential_lr", "linear_lr", "wsd_lr", "quarter_cosine_lr",
    "half_cosine_lr", "olmo_cosine_lr",
    # Optimizers (each with its optax transform and, where it exists, its exact recursion).
    "Optimizer", "SGD", "Momentum", "NormalizedSGD", "Adam", "SignSGD",
    # Engines: exact recursions, Monte Carlo, stability, gradient noise; placement over devices.
    "expected_risk", "make_risk_fn", "second_moments", "expected_grad_norm2",
    "simulate", "sample_gradient", "sample_gradient_explicit", "sample_gradient_rows",
    "stability_limit", "is_stable",
    "NoiseStats", "noise_stats", "noise_along", "gradient_covariance", "two_batch_estimates",
    "Placement", "MeshPlacement", "device_mesh", "sharded_expected_risk", "sharded_simulate",
    "DivergenceError", "DivergenceWarning",
    # The equivalence engine: ramp rules, the LR-schedule -> batch-ramp converter, Theorem 1 phases.
    "RampRule", "ramp_rule", "lr_decay_rule", "batch_ramp_rule", "seesaw_rule",
    "RampAccounting", "RampPlan", "ramp_schedule",
    "PhasedSchedule", "phase_schedule", "warm_start_steps", "phase_end_risks",
    # Critical batch size and the optimal learning rate; fitting utilities.
    "PowerFit", "fit_power", "hitting_steps", "parabolic_min",
    "Tradeoff", "TradeoffFit", "tradeoff", "fit_tradeoff", "greedy_schedules", "stability_lr_grid",
    "BudgetScaling", "critical_batch_vs_budget", "LRSweep", "lr_sweep",
    "SeesawTracking", "seesaw_tracking", "seesaw_pair",
    # Functional scaling laws (the full API is bt.fsl).
    "fsl", "power_law_fsl", "mode_sum_fsl", "calibrate_power_law", "optimal_batch_schedule",
    "optimal_two_stage", "catchup",
    # The planner: the Pareto front of serial steps against samples (the full API is bt.planner).
    "plan", "Plan", "PlanPoint", "UnreachableTarget", "planner",
    # Sweeps; the recursion seam.
    "run_grid_batched", "moments", "export",
]

try:
    __version__ = _version("batchramp-theory")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
