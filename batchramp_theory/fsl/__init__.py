"""Functional scaling laws (arXiv 2509.19189) and optimal batch schedules (arXiv 2602.14208).

* :mod:`.calculator`: the FSL loss of any LR / batch schedule at every step, ``O(K x modes)``.
* :mod:`.schedules`: the papers' test schedules (WSD-like, cyclic, two-stage batch).

Theory and every formula: ``docs/fsl.md`` and ``functional_scaling_law.md``.
"""

from .calculator import (
    FSLConstants as FSLConstants,
    FSLFit as FSLFit,
    FSLTerms as FSLTerms,
    SumOfExponentials as SumOfExponentials,
    PowerLawFit as PowerLawFit,
    calibrate as calibrate,
    calibrate_power_law as calibrate_power_law,
    mode_sum_fsl as mode_sum_fsl,
    noise_weights as noise_weights,
    power_law_fsl as power_law_fsl,
    power_law_soe as power_law_soe,
    relative_error as relative_error,
    volterra_series as volterra_series,
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
    NumericalOptimum as NumericalOptimum,
    OptimalBatchSchedule as OptimalBatchSchedule,
    TwoStageOptimum as TwoStageOptimum,
    batch_problem as batch_problem,
    best_constant_batch as best_constant_batch,
    numerical_optimal_batch as numerical_optimal_batch,
    optimal_batch_schedule as optimal_batch_schedule,
    optimal_two_stage as optimal_two_stage,
    regime as regime,
    round_batches as round_batches,
    schedule_from_batches as schedule_from_batches,
    two_stage_loss as two_stage_loss,
)
from .sweep import fsl_catchup_time as fsl_catchup_time, sweep_point as sweep_point
