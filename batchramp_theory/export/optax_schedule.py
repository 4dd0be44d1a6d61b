"""The learning rate as an ``optax`` step-indexed schedule, and the JSON/CSV table for anything else.

**optax** (docs/export.md, "optax"): the steps of the linear warmup (constant batch, so linear in
steps) become ``optax.linear_schedule(lr_0, lr_0 + n_w slope, n_w)``, the rest
``optax.piecewise_constant_schedule(lr_{n_w}, {k - n_w: lr_k / lr_{k-1}})`` with a boundary at
every step ``k`` where the learning rate changes (optax applies a scale at ``count >= boundary``),
joined by ``optax.join_schedules(..., [n_w])``. A learning rate that changes within the warmup in
any other way raises ``ValueError``.

**JSON / CSV**: one row per change of batch or learning rate, ``start_step, start_samples,
start_tokens, batch, lr`` (:meth:`RunnableRamp.table`); each row holds until the next.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np

__all__ = ["lr_pieces", "optax_lr", "render_optax", "render_json", "render_csv", "parse_table", "table_steps"]


def lr_pieces(lr) -> tuple[int, float, float, dict]:
    """``(n_w, lr_0, slope, {step: scale})``: the warmup's length and line, then the piecewise scales.

    ``n_w`` is the length of the leading run of steps whose learning rate is ``lr_0 + k slope`` (1e-12
    relative) and that are followed by a different value, 0 without a warmup.
    """
    lr = np.asarray(lr, dtype=np.float64)
    n_w = 0
    if lr.size > 2 and lr[1] != lr[0]:
        slope = lr[1] - lr[0]
        k = np.arange(lr.size)
        ok = np.abs(lr - (lr[0] + slope * k)) <= 1e-12 * np.abs(lr)
        n_w = int(np.argmin(ok)) if not ok.all() else lr.size
        # the last point of the line may already be the flat value: the flat part starts at n_w
    slope = float(lr[1] - lr[0]) if n_w else 0.0
    rest = lr[n_w:]
    if rest.size and np.any(rest <= 0):
        raise ValueError("optax: the learning rate must stay positive after the warmup (scales are ratios)")
    change = np.flatnonzero(np.diff(rest)) + 1
    scales = {int(k): float(rest[k] / rest[k - 1]) for k in change}
    return n_w, float(lr[0]), slope, scales


def optax_lr(lr):
    """The per-step learning rate ``lr`` as an ``optax`` schedule (module docstring)."""
    import optax

    lr = np.asarray(lr, dtype=np.float64)
    n_w, lr0, slope, scales = lr_pieces(lr)
    flat = optax.piecewise_constant_schedule(float(lr[n_w]) if n_w < lr.size else float(lr[-1]), scales)
    if n_w == 0:
        return flat
    warm = optax.linear_schedule(lr0, lr0 + slope * n_w, n_w)
    return optax.join_schedules([warm, flat], [n_w])


def render_optax(lr) -> str:
    """Python source that builds :func:`optax_lr`'s schedule (``import optax`` included)."""
    lr = np.asarray(lr, dtype=np.float64)
    n_w, lr0, slope, scales = lr_pieces(lr)
    init = float(lr[n_w]) if n_w < lr.size else float(lr[-1])
    body = ", ".join(f"{k}: {v!r}" for k, v in scales.items())
    flat = f"optax.piecewise_constant_schedule({init!r}, {{{body}}})"
    if n_w == 0:
        return f"import optax\nlr_schedule = {flat}\n"
    return (f"import optax\nwarmup = optax.linear_schedule({lr0!r}, {lr0 + slope * n_w!r}, {n_w})\n"
            f"lr_schedule = optax.join_schedules([warmup, {flat}], [{n_w}])\n")


def render_json(rows, meta: dict) -> str:
    """The table as JSON: ``{"meta": ..., "rows": [...]}``."""
    return json.dumps({"meta": meta, "rows": rows}, indent=2, allow_nan=False)


def render_csv(rows) -> str:
    """The table as CSV with header ``start_step,start_samples,start_tokens,batch,lr``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["start_step", "start_samples", "start_tokens", "batch", "lr"])
    for r in rows:
        w.writerow([r["step"], r["samples"], r["tokens"], r["batch"], repr(r["lr"])])
    return buf.getvalue()


def parse_table(text: str) -> list[dict]:
    """Rows from :func:`render_json` or :func:`render_csv` text."""
    s = text.lstrip()
    if s.startswith("{"):
        return json.loads(s)["rows"]
    rows = list(csv.DictReader(io.StringIO(s)))
    return [{"step": int(r["start_step"]), "samples": int(r["start_samples"]), "tokens": int(r["start_tokens"]),
             "batch": int(r["batch"]), "lr": float(r["lr"])} for r in rows]


def table_steps(rows, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-step ``(batch, lr)`` of a table: each row holds from its ``step`` until the next row's."""
    starts = np.array([r["step"] for r in rows], dtype=np.int64)
    if starts[0] != 0 or np.any(np.diff(starts) <= 0):
        raise ValueError("table: start_step must start at 0 and increase strictly")
    idx = np.searchsorted(starts, np.arange(num_steps), side="right") - 1
    return (np.array([r["batch"] for r in rows], dtype=np.int64)[idx],
            np.array([r["lr"] for r in rows], dtype=np.float64)[idx])
