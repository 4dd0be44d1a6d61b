"""The schedule planner: fewest serial steps for a target loss, with LR and batch optimised jointly.

:func:`plan` returns the Pareto front of (serial steps, samples) at a target loss
(docs/planner.md); the parametrisation is in :mod:`~batchramp_theory.planner.parametrization`,
one point's optimisation in :mod:`~batchramp_theory.planner.optimize`.
"""

from .front import Plan, PlanPoint, UnreachableTarget, pareto_mask, plan
from .optimize import (
    FixedHorizonOptimum,
    PointSolver,
    RoundedPoint,
    land,
    make_point_solver,
    optimal_schedule,
    round_point,
)
from .parametrization import Knots, LimitTable, batch_schedule, lr_limit_table, lr_schedule, refine_knots

__all__ = [
    "plan", "Plan", "PlanPoint", "UnreachableTarget", "pareto_mask",
    "optimal_schedule", "FixedHorizonOptimum", "PointSolver", "make_point_solver", "RoundedPoint", "round_point", "land",
    "Knots", "LimitTable", "lr_limit_table", "batch_schedule", "lr_schedule", "refine_knots",
]
