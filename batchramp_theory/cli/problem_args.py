"""Shared ``--problem FILE`` argument: a problem from a ``.npz`` file instead of the exponents.

Two layouts (docs/cli.md, "A problem from a file"; docs/problems.md):

* ``eigenvalues`` and ``target_energies`` (``(d,)`` each; energies ``lambda_j theta_j^2``), and
  optionally a scalar ``noise`` (default: the command's ``--noise``): :meth:`Problem.from_spectrum`;
* ``X`` (``(n, p)``) and ``y`` (``(n,)``): :meth:`Problem.from_data` (the empirical distribution
  of the rows; its noise is the least-squares residual's).

Anything else (other keys, both layouts at once, negative eigenvalues, NaN, mismatched lengths)
is a ``ValueError`` naming the file and the key, which the CLI prints as one line (exit 2).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_problem_argument", "load_problem"]

_SPECTRUM = {"eigenvalues", "target_energies"}
_DATA = {"X", "y"}


def add_problem_argument(group) -> None:
    """Add ``--problem FILE`` to a parser or argument group."""
    group.add_argument("--problem", type=Path, metavar="FILE.npz", default=None,
                       help="a problem from a .npz of (eigenvalues, target_energies[, noise]) or of (X, y); "
                            "replaces --dim/--capacity/--source")


def load_problem(path, noise: float | None = None):
    """Read a :class:`~batchramp_theory.Problem` from ``path`` (module docstring); ``noise`` fills a spectrum file without one."""
    import numpy as np

    from ..problem import Problem

    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"--problem {path}: expected a .npz file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"--problem {path}: cannot read it as .npz ({exc})") from exc
    keys = set(arrays)
    try:
        if keys in (_SPECTRUM, _SPECTRUM | {"noise"}):
            sigma = arrays.get("noise", noise)
            if sigma is None:
                raise ValueError("noise: the file has none and no --noise was given")
            if np.ndim(sigma) != 0:
                raise ValueError("noise must be a scalar")
            return Problem.from_spectrum(arrays["eigenvalues"], arrays["target_energies"], float(sigma))
        if keys == _DATA:
            return Problem.from_data(arrays["X"], arrays["y"])
    except ValueError as exc:
        raise ValueError(f"--problem {path}: {exc}") from exc
    raise ValueError(
        f"--problem {path}: keys {sorted(keys)}; expected eigenvalues, target_energies[, noise] or X, y"
    )
