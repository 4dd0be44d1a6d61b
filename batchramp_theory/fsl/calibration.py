"""Calibration of the FSL constants on one schedule, and their transfer to others.

The FSL is a ``≂`` statement (arXiv 2509.19189, Theorem 4.2): it fixes the shape of the risk
curve, not its constants. The constants ``(c1, c2, c3)`` of the three terms are fitted on one
calibration schedule by the linear least-squares fit the paper applies to SGD curves (here with
relative weights, so early and late times count alike on a log scale), frozen, and applied to
other schedules
(docs/fsl.md, "Calibration and transfer"). Refitting per schedule would hide every error of the
law.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import nnls

from .._validation import check_scalar
from ..schedules import Schedule
from .calculator import FSLConstants, FSLTerms, power_law_fsl, power_law_fsl_grid

__all__ = ["FSLFit", "calibrate", "PowerLawFit", "calibrate_power_law", "relative_error"]


class FSLFit(NamedTuple):
    """Constants fitted on a calibration schedule.

    Attributes:
        constants: the fitted :class:`FSLConstants` (non-negative).
        max_rel_error: ``max_k |fit_k / risk_k - 1|`` over the window on the calibration schedule.
        rms_rel_error: root-mean-square relative error over the window.
    """

    constants: FSLConstants
    max_rel_error: float
    rms_rel_error: float


def window_mask(intrinsic_time, window) -> np.ndarray:
    """Boolean mask of the steps whose intrinsic time ``T_k`` lies in ``[window[0], window[1]]``."""
    lo, hi = window
    t = np.asarray(intrinsic_time)
    return (t >= lo) & (t <= hi)


def relative_error(prediction, exact, intrinsic_time, window=(0.0, np.inf)) -> float:
    """``max |prediction/exact - 1|`` over steps whose intrinsic time lies in ``window``."""
    prediction, exact, t = (np.asarray(a, np.float64) for a in (prediction, exact, intrinsic_time))
    if not (prediction.shape == exact.shape == t.shape):
        raise ValueError(f"prediction, exact and intrinsic_time must have equal shapes, got {prediction.shape}, {exact.shape}, {t.shape}")
    m = window_mask(t, window)
    if not m.any():
        raise ValueError(f"window {window} contains no step (intrinsic time spans [{t.min():.3g}, {t.max():.3g}])")
    return float(np.max(np.abs(prediction[m] / exact[m] - 1.0)))


def calibrate(terms: FSLTerms, risk, window=(10.0, np.inf), *, include_noise_signal: bool = True) -> FSLFit:
    """Fit the constants ``c >= 0`` to one schedule's risk, by relative least squares.

    Minimises ``sum_k (sum_i c_i term_i(k) / risk_k - 1)^2`` over steps with intrinsic time in
    ``window`` (non-negative least squares: the linear fit of the three terms that
    arXiv 2509.19189 applies to SGD curves, with relative weights so that early and late times
    count alike on a log scale). Freeze the result and pass it to :meth:`FSLTerms.risk` for
    other schedules: do not refit per schedule. With ``include_noise_signal=False`` the signal-noise constant is held at 0
    (the two-term FSL of arXiv 2602.14208, which drops the ``e(z)`` part of the noise).
    """
    risk = np.asarray(risk, np.float64)
    t = np.asarray(terms.intrinsic_time)
    if t.ndim != 1 or risk.shape != t.shape:
        raise ValueError(f"calibrate takes one schedule: risk shape {risk.shape} must equal intrinsic_time shape {t.shape}")
    m = window_mask(t, window)
    if m.sum() < 3:
        raise ValueError(f"window {window} holds {int(m.sum())} steps; need at least 3 to fit 3 constants")
    cols = [0, 1, 2] if include_noise_signal else [0, 2]
    a = terms.design()[m][:, cols] / risk[m, None]
    scale = np.maximum(np.abs(a).max(axis=0), 1e-300)  # column scaling: the terms differ by orders of magnitude
    c, _ = nnls(a / scale, np.ones(int(m.sum())))
    full = np.zeros(3)
    full[cols] = c / scale
    consts = FSLConstants(*(float(v) for v in full))
    rel = terms.risk(consts)[m] / risk[m] - 1.0
    return FSLFit(consts, float(np.max(np.abs(rel))), float(np.sqrt(np.mean(rel**2))))


# Default grid of (tau_e, tau_K) for calibrate_power_law: powers of 2 from 1/64 to 4. The
# spectrum's own scales are O(1): K_M(t) = sum_j lambda_j^2 e^(-2 lambda_j t) matches
# zeta(2 beta) (1 + t/tau)^-(2-1/beta) at t -> infinity for tau ~ 0.1-0.3.
DEFAULT_TIME_SCALES = tuple(2.0**k for k in range(-6, 3))


class PowerLawFit(NamedTuple):
    """A power-law FSL calibrated on one schedule; :meth:`predict` applies it, frozen, to others.

    Attributes:
        constants: fitted ``(c1, c2, c3)``.
        time_scales: fitted ``(tau_e, tau_K)``.
        source, capacity, noise: the exponents and label noise the terms were built with.
        max_rel_error, rms_rel_error: fit quality on the calibration schedule (in the window).
        window: intrinsic-time window used for the fit.
    """

    constants: FSLConstants
    time_scales: tuple[float, float]
    source: float
    capacity: float
    noise: float
    max_rel_error: float
    rms_rel_error: float
    window: tuple[float, float]

    def terms(self, schedule, **kwargs) -> FSLTerms:
        """The power-law terms of ``schedule`` with the fitted time scales."""
        return power_law_fsl(
            schedule, source=self.source, capacity=self.capacity, noise=self.noise,
            time_scales=self.time_scales, **kwargs,
        )

    def predict(self, schedule, **kwargs) -> np.ndarray:
        """Predicted excess risk of ``schedule`` (or a list) at every step, constants frozen."""
        return self.terms(schedule, **kwargs).risk(self.constants)


def calibrate_power_law(
    schedule: Schedule,
    risk,
    *,
    source: float,
    capacity: float,
    noise: float,
    window=(10.0, np.inf),
    time_scales=DEFAULT_TIME_SCALES,
    include_noise_signal: bool = True,
    **kwargs,
) -> PowerLawFit:
    """Calibrate the power-law FSL on one schedule: constants by :func:`calibrate`, time scales by grid.

    For every ``(tau_e, tau_K)`` in ``time_scales x time_scales`` the linear constants are fitted
    by relative non-negative least squares, and the pair with the smallest RMS relative error
    wins (the kernel time scale is the ``c5`` of the practical ansatz, eq. 30 of
    arXiv 2509.19189; the signal time scale plays the same role for ``e``). Extra ``kwargs``
    (``rtol``, ``kernel_exponent``, ``noise_weight``) go to
    :func:`~batchramp_theory.fsl.power_law_fsl`.
    """
    if not isinstance(schedule, Schedule):
        raise ValueError("calibrate_power_law takes a single Schedule")
    scales = [check_scalar("time_scales", v, low=0.0, low_open=True) for v in time_scales]
    if not scales:
        raise ValueError("time_scales must be non-empty")
    unknown = set(kwargs) - {"rtol", "kernel_exponent", "noise_weight"}
    if unknown:
        raise ValueError(f"unknown keyword(s) for power_law_fsl: {sorted(unknown)}")
    pairs = np.array([(a, b) for a in scales for b in scales])
    grid = power_law_fsl_grid(schedule, pairs, source=source, capacity=capacity, noise=noise, **kwargs)
    best = None
    for i, pair in enumerate(pairs):
        terms = FSLTerms(grid.intrinsic_time[i], grid.signal[i], grid.noise_signal[i], grid.noise_label[i], "power_law")
        fit = calibrate(terms, risk, window, include_noise_signal=include_noise_signal)
        if best is None or fit.rms_rel_error < best[0].rms_rel_error:
            best = (fit, (float(pair[0]), float(pair[1])))
    fit, taus = best
    return PowerLawFit(
        fit.constants, taus, float(source), float(capacity), float(noise), fit.max_rel_error, fit.rms_rel_error,
        (float(window[0]), float(window[1])),
    )
