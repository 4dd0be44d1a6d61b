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
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .problem import Problem

__all__ = ["load_problem", "LAYOUTS"]

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
