"""One plotting style and one way to save a figure (PNG, PDF, JSON data + claims)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "font.size": 9,
}


def subplots(*args, **kwargs):
    with plt.rc_context(STYLE):
        return plt.subplots(*args, **kwargs)


def jsonable(x):
    """``x`` with arrays as lists, NumPy scalars as Python numbers and non-finite floats as strings."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else str(float(x))
    if isinstance(x, np.integer):
        return int(x)
    return x




def problem_text(dim=None, capacity=None, source=None, noise=None, **run) -> str:
    """The problem a figure was computed on, as one line for :func:`save`.

    ``problem_text(128, 2.0, 0.5, 0.5, lr=0.4, B="2->16")`` is ``"power-law problem: d=128,
    capacity beta=2, source s=0.5, noise sigma=0.5; lr=0.4, B=2->16"`` (``lambda_j = j^-beta``,
    ``lambda_j theta_j^2 = j^-(s beta+1)``; docs/theory.md). A value may be text (``"2, 3"``).
    """
    def fmt(v):
        return f"{v:g}" if isinstance(v, (int, float, np.floating, np.integer)) else str(v)

    parts = [f"{k}={fmt(v)}" for k, v in (("d", dim), ("capacity beta", capacity), ("source s", source),
                                          ("noise sigma", noise)) if v is not None]
    text = "power-law problem: " + ", ".join(parts) if parts else ""
    extra = ", ".join(f"{k}={fmt(v)}" for k, v in run.items())
    return f"{text}; {extra}" if text and extra else text or extra


def save(fig, name: str, out_dir: Path, data: dict, claims: list, *, problem: str) -> None:
    """Write ``name.png``, ``name.pdf`` and ``name.json`` (``{"data": ..., "claims": [...]}``).

    ``problem`` (e.g. from :func:`problem_text`) is printed along the bottom of the figure and
    stored in the JSON, so that every figure shows what it was computed on.
    """
    if not problem:
        raise ValueError("problem must say what the figure was computed on")
    out_dir = Path(out_dir)
    lines = problem.count("\n") + 1
    fig.text(0.5, 0.004, problem, ha="center", va="bottom", fontsize=7.5, color="0.25")
    with plt.rc_context(STYLE):
        height = fig.get_size_inches()[1]
        fig.tight_layout(rect=(0, min(0.25, 0.16 * lines / height), 1, 1))
        fig.savefig(out_dir / f"{name}.png")
        fig.savefig(out_dir / f"{name}.pdf")
    plt.close(fig)
    payload = {"problem": problem, "data": jsonable(data), "claims": jsonable([c.to_dict() for c in claims])}  # bounds may be infinite
    (out_dir / f"{name}.json").write_text(json.dumps(payload, indent=1))
