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

from ..batch_schedule_search import (
    NumericalOptimum as NumericalOptimum,
)
from ..batch_schedule_search import (
    numerical_optimal_batch as numerical_optimal_batch,
)
from ..batch_schedule_search import (
    round_batches as round_batches,
)
from ..batch_schedule_search import (
    schedule_from_batches as schedule_from_batches,
)
from ..schedules import cyclic as cyclic
from ..schedules import two_stage as two_stage
from ..schedules import wsd as wsd
from .calculator import (
    FSLConstants as FSLConstants,
)
from .calculator import (
    FSLTerms as FSLTerms,
)
from .calculator import (
    mode_sum_fsl as mode_sum_fsl,
)
from .calculator import (
    power_law_fsl as power_law_fsl,
)
from .calculator import (
    volterra_series as volterra_series,
)
from .calibration import (
    FSLFit as FSLFit,
)
from .calibration import (
    PowerLawFit as PowerLawFit,
)
from .calibration import (
    calibrate as calibrate,
)
from .calibration import (
    calibrate_power_law as calibrate_power_law,
)
from .calibration import (
    relative_error as relative_error,
)
from .catchup import (
    CatchUp as CatchUp,
)
from .catchup import (
    catchup as catchup,
)
from .catchup import (
    catchup_fsl_gap as catchup_fsl_gap,
)
from .catchup import (
    catchup_shape as catchup_shape,
)
from .catchup import (
    catchup_time as catchup_time,
)
from .catchup import (
    half_life as half_life,
)
from .kernels import (
    SumOfExponentials as SumOfExponentials,
)
from .kernels import (
    noise_weights as noise_weights,
)
from .kernels import (
    power_law_soe as power_law_soe,
)
from .optimal import (
    BatchProblem as BatchProblem,
)
from .optimal import (
    ConstantBatchOptimum as ConstantBatchOptimum,
)
from .optimal import (
    OptimalBatchSchedule as OptimalBatchSchedule,
)
from .optimal import (
    TwoStageOptimum as TwoStageOptimum,
)
from .optimal import (
    batch_problem as batch_problem,
)
from .optimal import (
    best_constant_batch as best_constant_batch,
)
from .optimal import (
    optimal_batch_schedule as optimal_batch_schedule,
)
from .optimal import (
    optimal_two_stage as optimal_two_stage,
)
from .optimal import (
    regime as regime,
)
from .optimal import (
    two_stage_loss as two_stage_loss,
)
from .sweep import fsl_catchup_time as fsl_catchup_time
from .sweep import sweep_point as sweep_point

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
