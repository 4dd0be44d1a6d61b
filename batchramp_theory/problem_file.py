"""A problem from a file: the layouts every command (``--problem FILE``) and the exporter's cost accept.

A ``.npz`` or ``.json`` file holds one of three layouts (docs/problems.md; docs/cli.md, "A problem
from a file"):

* **spectrum**: ``eigenvalues`` and ``target_energies`` (``(d,)`` each; energies
  ``lambda_j theta_j^2``, the convention of the power law), optional scalar ``noise``:
  :meth:`Problem.from_spectrum`;
* **eigenbasis**: ``eigenvalues`` and ``target`` (``theta*`` in the eigenbasis), optional ``noise``
  and ``weights`` (mode multiplicities): the :class:`Problem` itself;
* **data**: ``X`` (``(n, p)``) and ``y`` (``(n,)``): :meth:`Problem.from_data` (the empirical
  distribution of the rows; its noise is the least-squares residual's).

A layout without ``noise`` takes the caller's ``noise``. Anything else (other keys, two layouts at
once, negative eigenvalues, NaN, mismatched lengths) is a ``ValueError`` naming the file and the key.

:func:`fit_exponents` reads a problem's power-law exponents off its spectrum (capacity and
source), for the commands whose closed forms need them (``batchramp sweep --problem``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .fitting import PowerFit, fit_power
from .problem import Problem

__all__ = ["load_problem", "LAYOUTS", "fit_exponents", "ExponentFit"]

#: layout name -> (required keys, optional keys)
LAYOUTS = {
    "spectrum": ({"eigenvalues", "target_energies"}, {"noise"}),
    "eigenbasis": ({"eigenvalues", "target"}, {"noise", "weights"}),
    "data": ({"X", "y"}, set()),
}


def _read(path: Path) -> dict:
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except (OSError, ValueError) as exc:
            raise ValueError(f"problem file {path}: cannot read it as .npz ({exc})") from exc
    if path.suffix == ".json":
        try:
            d = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"problem file {path}: cannot read it as JSON ({exc})") from exc
        if not isinstance(d, dict):
            raise ValueError(f"problem file {path}: expected a JSON object of arrays")
        return {k: np.asarray(v, dtype=float) for k, v in d.items()}
    raise ValueError(f"problem file {path}: expected a .npz or .json file")


def load_problem(path, noise: float | None = None) -> Problem:
    """Read a :class:`~batchramp_theory.Problem` from ``path`` (layouts in the module docstring).

    ``noise`` is the label-noise std for a spectrum or eigenbasis file that has none.

    Examples:
        >>> import numpy as np, tempfile, os, batchramp_theory as bt
        >>> p = bt.power_law_problem(8, 2.0, 0.5, noise=0.5)
        >>> f = os.path.join(tempfile.mkdtemp(), "p.npz")
        >>> np.savez(f, eigenvalues=p.eigenvalues, target_energies=p.eigenvalues * p.target**2)
        >>> bool(np.allclose(bt.load_problem(f, noise=0.5).target, p.target))
        True
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"problem file {path} does not exist")
    arrays = _read(path)
    keys = set(arrays)
    layout = next((name for name, (req, opt) in LAYOUTS.items() if req <= keys <= req | opt), None)
    if layout is None:
        expected = "; ".join(f"{n}: {', '.join(sorted(r))}[, {', '.join(sorted(o))}]" if o else f"{n}: {', '.join(sorted(r))}"
                             for n, (r, o) in LAYOUTS.items())
        raise ValueError(f"problem file {path}: keys {sorted(keys)}; expected one layout ({expected})")
    try:
        if layout == "data":
            return Problem.from_data(arrays["X"], arrays["y"])
        sigma = arrays.get("noise", noise)
        if sigma is None:
            raise ValueError("lacks noise (put it in the file or pass it)")
        if np.ndim(sigma) != 0:
            raise ValueError("noise must be a scalar")
        if layout == "spectrum":
            return Problem.from_spectrum(arrays["eigenvalues"], arrays["target_energies"], float(sigma))
        w = arrays.get("weights")
        return Problem(np.asarray(arrays["eigenvalues"], float), np.asarray(arrays["target"], float), float(sigma),
                       None if w is None else np.asarray(w, float))
    except ValueError as exc:
        raise ValueError(f"problem file {path}: {exc}") from exc


class ExponentFit(NamedTuple):
    """Power-law exponents fitted to a problem's spectrum (:func:`fit_exponents`).

    ``capacity`` / ``source``: the fitted ``beta`` and ``s``, with standard errors
    ``capacity_stderr`` / ``source_stderr``; ``eigenvalue_fit`` / ``energy_fit``: the two
    log-log least-squares fits (:class:`~batchramp_theory.fitting.PowerFit`, ``n`` modes used
    each); ``log_rms``: the root-mean-square residual of the two fits in ``ln`` units (0 for an
    exact power law), the fit's quality.
    """

    capacity: float
    source: float
    capacity_stderr: float
    source_stderr: float
    eigenvalue_fit: PowerFit
    energy_fit: PowerFit
    log_rms: tuple[float, float]


def _log_rms(fit: PowerFit, x, y) -> float:
    res = np.log(y) - (fit.slope * np.log(x) + fit.intercept)
    return float(np.sqrt(np.mean(res**2)))


def fit_exponents(problem: Problem) -> ExponentFit:
    """Capacity ``beta`` and source ``s`` of ``problem`` by log-log least squares (:func:`~batchramp_theory.fit_power`).

    The modes are ranked by decreasing eigenvalue, ``j = 1, 2, ...`` (a weighted mode of
    multiplicity ``w`` sits at the midpoint ``cumsum(w) - (w - 1)/2`` of the ranks it stands
    for). The power-law task has ``lambda_j = j^-beta`` and target energies
    ``lambda_j theta_j^2 = j^-(s beta + 1)`` (:func:`~batchramp_theory.power_law_problem`;
    docs/fsl.md, "Model, capacity and source"), so

    * ``beta = -slope`` of ``ln lambda_j`` against ``ln j``, and
    * ``s = (-a - 1) / beta`` with ``a`` the slope of ``ln(lambda_j theta_j^2)`` against ``ln j``,

    with standard errors: the OLS one for ``beta``, and for ``s`` the delta method
    ``sqrt(se_a^2 + s^2 se_beta^2) / beta`` (the two fits' errors taken as independent). Modes
    with a zero eigenvalue are left out of both fits, modes with a zero energy out of the
    second. For a problem written from ``power_law_problem`` both fits are exact (``log_rms``
    ~ 1e-15); otherwise ``log_rms`` says how far the spectrum is from a power law.

    Raises ``ValueError`` (naming ``problem``) if fewer than 3 modes are usable for a fit.

    Examples:
        >>> import batchramp_theory as bt
        >>> f = bt.fit_exponents(bt.power_law_problem(200, capacity=2.0, source=0.5))
        >>> round(f.capacity, 9), round(f.source, 9)
        (2.0, 0.5)
    """
    lam = np.asarray(problem.eigenvalues, dtype=np.float64)
    theta = np.asarray(problem.target, dtype=np.float64)
    w = np.ones_like(lam) if problem.weights is None else np.asarray(problem.weights, dtype=np.float64)
    order = np.argsort(-lam, kind="stable")
    lam, theta, w = lam[order], theta[order], w[order]
    rank = np.cumsum(w) - (w - 1.0) / 2.0
    energy = lam * theta**2
    pos = lam > 0
    if pos.sum() < 3:
        raise ValueError(f"problem: need >= 3 modes with a positive eigenvalue to fit the capacity, got {int(pos.sum())}")
    ok = pos & (energy > 0)
    if ok.sum() < 3:
        raise ValueError(f"problem: need >= 3 modes with a positive target energy to fit the source, got {int(ok.sum())}")
    fl = fit_power(rank[pos], lam[pos])
    fe = fit_power(rank[ok], energy[ok])
    beta = -fl.slope
    s = (-fe.slope - 1.0) / beta
    se_b = fl.slope_stderr
    se_s = float(np.sqrt(fe.slope_stderr**2 + s**2 * se_b**2) / abs(beta))
    return ExponentFit(float(beta), float(s), float(se_b), se_s, fl, fe,
                       (_log_rms(fl, rank[pos], lam[pos]), _log_rms(fe, rank[ok], energy[ok])))
