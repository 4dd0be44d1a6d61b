"""batchramp-theory: learning-rate decay versus batch-size ramps for SGD on noisy linear regression.

Exact recursions and exact-in-distribution Monte Carlo for the theory of Smith et al. 2017,
Seesaw (arXiv 2510.14717), functional scaling laws (arXiv 2509.19189, 2602.14208) and the
critical batch size (arXiv 2410.05838, McCandlish et al. 2018).
"""

from importlib.metadata import PackageNotFoundError, version as _version

from .divergence import DivergenceError as DivergenceError, DivergenceWarning as DivergenceWarning
from .optimizers import (
    Adam as Adam,
    Momentum as Momentum,
    NormalizedSGD as NormalizedSGD,
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
# Performance and scale (issue 7): infinite-dimensional quadrature, sharded sweeps.
from .quadrature import mode_sum as mode_sum, power_law_quadrature as power_law_quadrature
from .grid import run_grid_batched as run_grid_batched
from .sharding import (
    device_mesh as device_mesh,
    sharded_expected_risk as sharded_expected_risk,
    sharded_simulate as sharded_simulate,
)
from .stability import is_stable as is_stable, stability_limit as stability_limit

try:
    __version__ = _version("batchramp-theory")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
