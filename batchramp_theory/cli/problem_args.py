"""Shared ``--problem FILE`` argument: a problem from a ``.npz`` file instead of the exponents.

The file layouts are those of :mod:`batchramp_theory.problem_file` (spectrum, eigenbasis, data;
docs/cli.md, "A problem from a file"); a layout without ``noise`` takes the command's ``--noise``.
A malformed file is a ``ValueError`` naming the flag, the file and the key, which the CLI prints
as one line (exit 2).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_problem_argument", "load_problem"]


def add_problem_argument(group, *aliases: str) -> None:
    """Add ``--problem FILE`` (and any ``aliases``, e.g. an older flag name) to a parser or argument group."""
    group.add_argument("--problem", *aliases, dest="problem", type=Path, metavar="FILE", default=None,
                       help="a problem from a .npz/.json of (eigenvalues, target_energies[, noise]), "
                            "(eigenvalues, target[, noise, weights]) or (X, y); replaces --dim/--capacity/--source")


def load_problem(path, noise: float | None = None):
    """:func:`batchramp_theory.load_problem` with its errors naming the flag (``--problem ...``)."""
    from ..problem_file import load_problem as load

    try:
        return load(path, noise)
    except ValueError as exc:
        raise ValueError(f"--problem: {exc}") from exc
