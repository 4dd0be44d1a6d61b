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




def save(fig, name: str, out_dir: Path, data: dict, claims: list) -> None:
    """Write ``name.png``, ``name.pdf`` and ``name.json`` (``{"data": ..., "claims": [...]}``)."""
    out_dir = Path(out_dir)
    with plt.rc_context(STYLE):
        fig.tight_layout()
        fig.savefig(out_dir / f"{name}.png")
        fig.savefig(out_dir / f"{name}.pdf")
    plt.close(fig)
    payload = {"data": jsonable(data), "claims": jsonable([c.to_dict() for c in claims])}  # bounds may be infinite
    (out_dir / f"{name}.json").write_text(json.dumps(payload, indent=1))
