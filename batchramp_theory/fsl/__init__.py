"""Functional scaling laws (arXiv 2509.19189) and optimal batch schedules (arXiv 2602.14208).

* :mod:`.kernels`: the power-law kernel as a sum of exponentials, the mode propagators, the
  per-step noise weight ``eta^2 / B``.
* :mod:`.calculator`: the FSL terms of any LR / batch schedule at every step, ``O(K x modes)``.
* :mod:`.calibration`: fit the FSL constants on one schedule, transfer them to others.
* the papers' test schedules (WSD-like, cyclic, two-stage batch) are in :mod:`batchramp_theory.schedules`.
* :mod:`.optimal`: FSL-optimal batch schedules under a data budget (closed forms).
* :mod:`.catchup`: the gap after a batch switch; :mod:`.sweep`: difficulty sweeps.

The gradient-descent optimum through the exact recursion (``numerical_optimal_batch``) lives in
:mod:`batchramp_theory.batch_schedule_search` and is re-exported here. Theory and every
formula: ``docs/fsl.md``.
"""

from .kernels import (
    SumOfExponentials as SumOfExponentials,
    noise_weights as noise_weights,
    power_law_soe as power_law_soe,
)
from .calculator import (
    FSLConstants as FSLConstants,
    FSLTerms as FSLTerms,
    mode_sum_fsl as mode_sum_fsl,
    power_law_fsl as power_law_fsl,
    volterra_series as volterra_series,
)
from .calibration import (
    FSLFit as FSLFit,
    PowerLawFit as PowerLawFit,
    calibrate as calibrate,
    calibrate_power_law as calibrate_power_law,
    relative_error as relative_error,
)
from ..schedules import cyclic as cyclic, two_stage as two_stage, wsd as wsd
from .catchup import (
    CatchUp as CatchUp,
    catchup as catchup,
    catchup_fsl_gap as catchup_fsl_gap,
    catchup_shape as catchup_shape,
    catchup_time as catchup_time,
    half_life as half_life,
)
from .optimal import (
    BatchProblem as BatchProblem,
    ConstantBatchOptimum as ConstantBatchOptimum,
    OptimalBatchSchedule as OptimalBatchSchedule,
    TwoStageOptimum as TwoStageOptimum,
    batch_problem as batch_problem,
    best_constant_batch as best_constant_batch,
    optimal_batch_schedule as optimal_batch_schedule,
    optimal_two_stage as optimal_two_stage,
    regime as regime,
    two_stage_loss as two_stage_loss,
)
from ..batch_schedule_search import (
    NumericalOptimum as NumericalOptimum,
    numerical_optimal_batch as numerical_optimal_batch,
    round_batches as round_batches,
    schedule_from_batches as schedule_from_batches,
)
from .sweep import fsl_catchup_time as fsl_catchup_time, sweep_point as sweep_point


__all__ = [
    "BatchProblem",
    "CatchUp",
    "ConstantBatchOptimum",
    "FSLConstants",
    "FSLFit",
    "FSLTerms",
    "NumericalOptimum",
    "OptimalBatchSchedule",
    "PowerLawFit",
    "SumOfExponentials",
    "TwoStageOptimum",
    "batch_problem",
    "best_constant_batch",
    "calibrate",
    "calibrate_power_law",
    "catchup",
    "catchup_fsl_gap",
    "catchup_shape",
    "catchup_time",
    "cyclic",
    "fsl_catchup_time",
    "half_life",
    "mode_sum_fsl",
    "noise_weights",
    "numerical_optimal_batch",
    "optimal_batch_schedule",
    "optimal_two_stage",
    "power_law_fsl",
    "power_law_soe",
    "regime",
    "relative_error",
    "round_batches",
    "schedule_from_batches",
    "sweep_point",
    "two_stage",
    "two_stage_loss",
    "volterra_series",
    "wsd",
]
