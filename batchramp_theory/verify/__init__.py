"""Verification layer: one result type, one set of band/z/slope helpers, one place for predictions.

* :mod:`~batchramp_theory.verify.result`: :class:`CheckResult` (also a figure's claim;
  :class:`Claim` builds one in the figures' argument order).
* :mod:`~batchramp_theory.verify.bands`: statistics (:func:`max_relative_error`,
  :func:`max_log_ratio`, :func:`max_abs_z`, :func:`mean_and_se`, :func:`fitted_slope`) and result builders
  (:func:`within`, :func:`around`, :func:`z_band`, :func:`slope_band`, :func:`relative_error_band`).
* :mod:`~batchramp_theory.verify.predictions`: each theory prediction as a function of the
  problem's exponents (imported as a module: ``from batchramp_theory.verify import predictions``).

Checks (:mod:`batchramp_theory.checks`) and figures (:mod:`batchramp_theory.figures`) build on
these; docs/architecture.md places the layer between the engines and the CLI.
"""

from . import bands, predictions
from .bands import *  # noqa: F403 - the helpers are this package's API; bands.__all__ lists them
from .result import CheckResult, Claim, agrees

__all__ = ["CheckResult", "Claim", "agrees", "predictions", *bands.__all__]
