"""Shared ``--problem FILE`` argument: a problem from a ``.npz`` file instead of the exponents.

The file layouts are those of :mod:`batchramp_theory.problem_file` (spectrum, eigenbasis, data;
docs/cli.md, "A problem from a file"); a layout without ``noise`` takes the command's ``--noise``.
A malformed file is a ``ValueError`` naming the flag, the file and the key, which the CLI prints
as one line (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from .args import integer, number

__all__ = ["add_problem_argument", "add_power_law_arguments", "load_problem"]

#: The power-law problem's flags (the shared group title states the convention).
POWER_LAW_TITLE = "problem (power law: lambda_j = j^-capacity, lambda_j theta_j^2 = j^-(source*capacity+1))"


def add_problem_argument(group, *aliases: str) -> None:
    """Add ``--problem FILE`` (and any ``aliases``, e.g. an older flag name) to a parser or argument group."""
    group.add_argument("--problem", *aliases, dest="problem", type=Path, metavar="FILE", default=None,
                       help="a problem from a .npz/.json of (eigenvalues, target_energies[, noise]), "
                            "(eigenvalues, target[, noise, weights]) or (X, y); replaces --dim/--capacity/--source")


def add_power_law_arguments(parser):
    """Add the group ``--dim --capacity --source --noise`` (defaults 128, 2, 0.5, 0.5) and ``--problem FILE``."""
    g = parser.add_argument_group(POWER_LAW_TITLE)
    g.add_argument("--dim", type=integer(1, what="modes"), default=128, help="number of modes (default 128)")
    g.add_argument("--capacity", type=number(1, low_open=True, what="beta"), default=2.0, help="capacity exponent beta > 1 (default 2)")
    g.add_argument("--source", type=number(0, low_open=True, what="s"), default=0.5, help="source exponent s > 0 (default 0.5)")
    g.add_argument("--noise", type=number(0, what="label-noise std sigma"), default=0.5, help="label-noise std sigma (default 0.5)")
    add_problem_argument(g)
    return g


def load_problem(path, noise: float | None = None):
    """:func:`batchramp_theory.load_problem` with its errors naming the flag (``--problem ...``)."""
    from ..problem_file import load_problem as load

    try:
        return load(path, noise)
    except ValueError as exc:
        raise ValueError(f"--problem: {exc}") from exc
