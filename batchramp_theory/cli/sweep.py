"""``batchramp sweep``: optimal batch switch, gain and catch-up time over a grid of task difficulties.

Every grid point is written to ``OUT/points/`` as soon as it finishes (atomic JSON files via
:func:`batchramp_theory.grid.run_grid`), so an interrupted sweep rerun with the same arguments
resumes where it stopped; damaged point files are reported, moved to ``OUT/points/damaged/`` and
recomputed, and several workers may run the same command on one folder at once (each point is
claimed before it is computed; docs/fsl.md, "The sweep store"). At the end: a table on the
terminal, the counts computed / reused / recovered, ``OUT/sweep.json``, ``OUT/sweep.csv`` and
``OUT/sweep_heatmap.png``.

``--problem FILE`` sweeps a problem from a file (docs/cli.md, "A problem from a file"): the
``(capacity, source)`` axes become the one pair fitted to the file's spectrum
(:func:`batchramp_theory.fit_exponents`, printed with its standard errors and stored in every
point), the noise is the file's, and ``--exact-dim`` runs the file's problem itself.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import sys
from pathlib import Path

from .args import integer, number, writable_dir
from .problem_args import add_problem_argument, load_problem

_DEFAULT_CAPACITY = [1.5, 2.0, 3.0]
_DEFAULT_SOURCE = [0.3, 0.5, 0.8, 1.2]

# Library words -> this command's flags (cli.args.in_user_words).
USER_WORDS = {"capacity": "--capacity", "source": "--source", "noise": "--noise", "budget": "--budget", "lr": "--lr",
              "b_min": "--b-min", "b_max": "--b-max", "batch1": "--batch1", "batch2": "--batch2", "eps": "--eps",
              "exact_dim": "--exact-dim"}

HEATMAP_METRICS = (
    ("switch_fraction", "optimal switch P*/D (two-stage)"),
    ("gain_two_stage", "gain over best constant batch (two-stage)"),
    ("gain_optimal", "gain over best constant batch (optimal b*(t))"),
    ("catchup_fraction", "catch-up time / horizon (intrinsic time)"),
)


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="optimal batch switch, gain over the best constant batch and catch-up time over (capacity, source) grids",
        description=(
            "For each (capacity beta, source s, noise, budget) point: the FSL-optimal two-stage switch batch1->batch2 "
            "(P*/D), the loss gain of the two-stage and of the optimal b*(t) schedule over the best constant batch, "
            "and the catch-up time after the optimal switch. Results are stored per point and resumable."
        ),
    )
    p.add_argument("--capacity", type=number(1, low_open=True), nargs="+", default=None, metavar="BETA", help="capacity exponents beta > 1 (default 1.5 2 3)")
    p.add_argument("--source", type=number(0, low_open=True), nargs="+", default=None, metavar="S", help="source exponents s > 0 (default 0.3 0.5 0.8 1.2)")
    p.add_argument("--noise", type=number(0, low_open=True), nargs="+", default=[1.0], metavar="SIGMA", help="label-noise std sigma > 0")
    p.add_argument("--budget", type=number(0, low_open=True, what="samples"), nargs="+", default=[1e6], metavar="D", help="data budgets in samples")
    p.add_argument("--lr", type=number(0, low_open=True), default=1.0, help="constant learning rate eta (default 1)")
    p.add_argument("--b-min", type=number(1), default=1.0, help="smallest batch (default 1)")
    p.add_argument("--b-max", type=number(1, allow_inf=True), default=math.inf, help="largest batch (default unbounded)")
    p.add_argument("--batch1", type=number(1), default=1.0, help="two-stage: batch before the switch (default 1)")
    p.add_argument("--batch2", type=_batch2, default=None, metavar="B|auto",
                   help="two-stage: batch after the switch (default auto: optimised per point)")
    p.add_argument("--eps", type=number(0, 1, low_open=True, high_open=True), default=0.1, help="catch-up: gap <= eps x large-batch loss (default 0.1)")
    p.add_argument("--exact-dim", type=integer(0), default=0, metavar="N",
                   help="also evaluate the schedules with the exact recursion at dimension N (needs budget/b_min <= 2e6)")
    add_problem_argument(p)
    p.add_argument("--out", type=Path, default=Path("sweep_out"), metavar="DIR", help="output folder (default sweep_out)")
    p.add_argument("--stale-after", type=float, default=None, metavar="SECONDS",
                   help="a point claimed by a worker silent this long (another host) is taken over (default 120)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run, user_words=USER_WORDS)


def _batch2(text: str):
    if text == "auto":
        return None
    try:
        return float(text)
    except ValueError as exc:
        import argparse

        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from exc


def problem_axes(args):
    """Fill the ``--capacity/--source`` axes: their defaults, or the pair fitted to ``--problem`` (then returned).

    With ``--problem FILE``: ``--capacity``/``--source`` must not be given (the fit replaces them),
    ``--noise`` may hold one value (used only if the file has no noise); the fitted exponents
    (:func:`batchramp_theory.fit_exponents`), the file's noise, and ``--exact-dim`` (0, or the
    file's dimension) are written into ``args`` (the fit as ``args.problem_fit``). Returns ``(problem, fit)``, or ``None`` without a file.
    """
    from ..problem_file import fit_exponents

    if args.problem is None:
        args.capacity = _DEFAULT_CAPACITY if args.capacity is None else args.capacity
        args.source = _DEFAULT_SOURCE if args.source is None else args.source
        return None
    given = [flag for flag, v in (("--capacity", args.capacity), ("--source", args.source)) if v is not None]
    if given:
        raise ValueError(f"--problem: {' and '.join(given)} cannot be combined with --problem (the exponents are fitted to the file)")
    if len(args.noise) != 1:
        raise ValueError("--problem: give at most one --noise value (used only if the file has no noise)")
    problem = load_problem(args.problem, args.noise[0])
    try:
        fit = fit_exponents(problem)
    except ValueError as exc:
        raise ValueError(f"--problem: {args.problem}: {exc}") from exc
    if not (fit.capacity > 1 and fit.source > 0):
        raise ValueError(f"--problem: {args.problem}: fitted exponents beta = {fit.capacity:.4g}, s = {fit.source:.4g}; "
                         "the FSL closed forms need beta > 1 and s > 0")
    if args.exact_dim and args.exact_dim != problem.dim:
        raise ValueError(f"--exact-dim: with --problem the exact runs use the file's problem (d = {problem.dim}); "
                         f"pass --exact-dim {problem.dim} or 0")
    args.capacity, args.source, args.noise = [fit.capacity], [fit.source], [float(problem.noise)]
    args.problem_fit = fit
    return problem, fit


def fit_line(path, problem, fit) -> str:
    """The one line that says which exponents a ``--problem`` sweep runs at."""
    return (f"batchramp sweep: --problem {path}: d = {problem.dim}, fitted capacity beta = {fit.capacity:.6g} "
            f"+- {fit.capacity_stderr:.2g}, source s = {fit.source:.6g} +- {fit.source_stderr:.2g} (1 SE; log-log fits over "
            f"{fit.eigenvalue_fit.n} / {fit.energy_fit.n} modes, rms log residuals {fit.log_rms[0]:.2g} / {fit.log_rms[1]:.2g}), "
            f"noise sigma = {float(problem.noise):.6g}; these replace --capacity/--source")


def grid_points(args) -> list[dict]:
    """The grid as a list of validated point dicts (every setting is part of the point's identity).

    With ``--problem`` (after :func:`problem_axes`) each point also names the file (absolute path,
    SHA-256 of its bytes) and the fit's standard errors (``capacity_stderr``, ``source_stderr``).
    """
    from ..fsl.sweep import file_digest, validate_point

    extra = {}
    if getattr(args, "problem", None) is not None:
        fit = args.problem_fit
        extra = {"problem_file": str(Path(args.problem).resolve()), "problem_sha256": file_digest(args.problem),
                 "capacity_stderr": fit.capacity_stderr, "source_stderr": fit.source_stderr}
    for name in ("capacity", "source", "noise", "budget"):
        vals = getattr(args, name)
        if len(set(vals)) != len(vals):
            raise ValueError(f"--{name} has repeated values: {vals}")
    points = []
    for beta, s, sigma, d in itertools.product(args.capacity, args.source, args.noise, args.budget):
        point = {
            "capacity": float(beta), "source": float(s), "noise": float(sigma), "budget": float(d),
            "lr": float(args.lr), "b_min": float(args.b_min), "b_max": float(args.b_max),
            "batch1": float(args.batch1), "batch2": None if args.batch2 is None else float(args.batch2), "eps": float(args.eps),
            "exact_dim": int(args.exact_dim), **extra,
        }
        points.append(validate_point(point))
    return points


def _warn(message: str) -> None:
    print(f"batchramp sweep: warning: {message}", file=sys.stderr)


def run(args) -> int:
    """Validate, run the grid through the store (:func:`batchramp_theory.grid.run_grid`), write the outputs.

    Exit status 1 with one line naming the folder if the store cannot be written (disk full,
    read-only); damaged point files are reported on stderr, moved aside and recomputed.
    """
    from ..fsl.sweep import sweep_point
    from ..grid import STALE_AFTER, GridStoreError, run_grid

    file = problem_axes(args)
    points = grid_points(args)  # validates everything before any work starts
    if file is not None:
        print(fit_line(args.problem, *file))
    stale_after = STALE_AFTER if args.stale_after is None else args.stale_after
    if not (math.isfinite(stale_after) and stale_after > 0):
        raise ValueError(f"--stale-after must be a positive number of seconds, got {args.stale_after}")
    out = writable_dir("--out", Path(args.out))  # before any point runs
    try:
        records = run_grid(points, sweep_point, out / "points", progress=not args.no_progress, description="sweep",
                           stale_after=stale_after, report=_warn)
        rows = [{**r["point"], **r["result"]} for r in records]
        _write_json(out / "sweep.json", rows)
        _write_csv(out / "sweep.csv", rows)
        _heatmap(out / "sweep_heatmap.png", rows, args)
    except KeyboardInterrupt:
        print(interrupted_message(points, out / "points"), file=sys.stderr)
        return 130
    except OSError as exc:  # GridStoreError names the folder; an output file's error names the file
        what = exc if isinstance(exc, GridStoreError) else f"cannot write the outputs in {out}: {exc}"
        print(f"batchramp sweep: error: {what}", file=sys.stderr)
        return 1
    _print_table(rows, out)
    for line in stability_report(rows, args):
        print(line, file=sys.stderr)
    print(f"batchramp sweep: {records.summary()}")
    return 0


def interrupted_message(points: list[dict], points_dir: Path) -> str:
    """The one line for an interrupted sweep: how many points are saved, and how to resume."""
    from ..grid import load_grid

    wanted = {json.dumps(p, sort_keys=True, default=float) for p in points}
    saved = sum(json.dumps(r["point"], sort_keys=True, default=float) in wanted for r in load_grid(points_dir))
    return f"batchramp sweep: interrupted: {saved}/{len(points)} points saved in {points_dir}; rerun the same command to resume"


def stability_report(rows: list[dict], args) -> list[str]:
    """Warnings for points whose ``--lr`` is past the SGD stability limit at ``--b-min`` and for diverged exact runs."""
    out = []
    unstable = [r for r in rows if r.get("stable") is False]
    if unstable:
        worst = max(r["lr"] / r["lr_stability_limit"] for r in unstable)
        out.append(
            f"warning: --lr {args.lr:g} is past the SGD stability limit at --b-min {args.b_min:g} for {len(unstable)} of "
            f"{len(rows)} points (up to {worst:.3g}x; column lr/limit): runs at that batch diverge, and the FSL "
            f"columns of those points describe no run"
        )
    for key, what in (("exact_diverged_two_stage", "two-stage"), ("exact_diverged_optimal", "optimal b*(t)")):
        div = [r for r in rows if r.get(key, -1) >= 0]
        if div:
            out.append(f"warning: the exact {what} run diverged at {len(div)} of {len(rows)} points "
                       f"(first at step {min(r[key] for r in div)}); shown as 'diverged at step k'")
    return out


def _clean(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def _replace(path: Path, write) -> None:
    """``write(tmp)`` then rename ``tmp`` over ``path``: workers sharing ``--out`` never leave a mixed file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, rows: list[dict]) -> None:
    text = json.dumps([{k: _clean(v) for k, v in r.items()} for r in rows], indent=1)
    _replace(path, lambda tmp: tmp.write_text(text))


def _write_csv(path: Path, rows: list[dict]) -> None:
    keys = list(rows[0])
    for r in rows[1:]:
        keys += [k for k in r if k not in keys]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in keys})

    _replace(path, write)


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return f"{v:.4g}"


def _print_table(rows: list[dict], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    cols = ["capacity", "source", "noise", "budget", "regime", "switch_fraction", "batch2", "gain_two_stage", "gain_optimal",
            "best_constant_batch", "catchup_time", "catchup_fraction"]
    if "exact_gain_two_stage" in rows[0]:
        cols += ["exact_gain_two_stage", "exact_gain_optimal"]
    if "lr_stability_limit" in rows[0]:
        cols += ["lr/limit"]
    console = Console(width=max(Console().width, 160))
    table = Table(title=f"batchramp sweep ({len(rows)} points)")
    for c in cols:  # headers wrap between words, never inside one
        words = c.replace("_", " ")
        wide = c.startswith("exact_gain") or c == "lr/limit"  # "diverged at step k", "UNSTABLE"
        table.add_column(words, min_width=max([len(w) for w in words.split()] + [8 * wide]))
    for r in rows:
        table.add_row(*(_cell(r, c) for c in cols))
    console.print(table)
    console.print(f"wrote {out / 'sweep.json'}, {out / 'sweep.csv'}, {out / 'sweep_heatmap.png'} (per-point files in {out / 'points'})")


def _cell(r: dict, col: str) -> str:
    """One table cell: a diverged exact run reads ``diverged at step k`` (never a number); ``lr/limit`` flags > 1."""
    div = {"exact_gain_two_stage": "exact_diverged_two_stage", "exact_gain_optimal": "exact_diverged_optimal"}
    if col in div and r.get(div[col], -1) >= 0:
        return f"diverged at step {r[div[col]]}"  # wraps between words
    if col == "lr/limit":
        ratio = r["lr"] / r["lr_stability_limit"]
        return f"{ratio:.3g}" + ("" if r.get("stable", True) else " UNSTABLE")
    return _fmt(r.get(col))


def _heatmap(path: Path, rows: list[dict], args) -> None:
    """One row of panels per (noise, budget); columns: the HEATMAP_METRICS over (source x capacity)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from ..figures._style import STYLE, subplots

    caps, srcs = sorted(set(args.capacity)), sorted(set(args.source))
    combos = list(itertools.product(sorted(set(args.noise)), sorted(set(args.budget))))
    fig, axes = subplots(len(combos), len(HEATMAP_METRICS), figsize=(3.6 * len(HEATMAP_METRICS), 3.0 * len(combos)), squeeze=False)
    index = {(r["capacity"], r["source"], r["noise"], r["budget"]): r for r in rows}
    for i, (sigma, d) in enumerate(combos):
        for j, (key, title) in enumerate(HEATMAP_METRICS):
            ax = axes[i, j]
            z = np.array([[_num(index[(b, s, sigma, d)][key]) for s in srcs] for b in caps])
            cmap = plt.get_cmap("viridis").with_extremes(bad="lightgray")  # NaN: no switch (constant batch is optimal)
            im = ax.imshow(np.ma.masked_invalid(z), origin="lower", aspect="auto", cmap=cmap)
            ax.grid(False)
            # Cell text sized to its cell (about 190 x 150 points of axes per panel), dark on bright colours;
            # none when cells are too small to hold it (the colour bar still reads the value).
            fs = min(7.0, 190 / (4.6 * len(srcs)), 62 / len(caps))
            norm = im.norm
            for (bi, si), v in np.ndenumerate(z):
                if fs < 4:
                    break
                r = index[(caps[bi], srcs[si], sigma, d)]
                tag = ("easy" if r["regime"] == "easy" else "hard") + ("" if r.get("stable", True) else " *")
                text = f"{float(v):.3g}" if np.isfinite(v) else "inf" if np.isinf(v) else "no switch"
                bright = not np.isfinite(v) or norm(v) > 0.6  # viridis is light at the top
                ax.text(si, bi, f"{text}\n{tag}", ha="center", va="center", fontsize=fs, color="k" if bright else "w")
            ax.set_xticks(range(len(srcs)), [f"{s:g}" for s in srcs])
            ax.set_yticks(range(len(caps)), [f"{b:g}" for b in caps])
            ax.set_xlabel("source exponent s")
            ax.set_ylabel("capacity exponent beta")
            ax.set_title(f"{title}\nsigma={sigma:g}, D={d:.3g} samples", fontsize=8)
            fig.colorbar(im, ax=ax, shrink=0.8)
    n_bad = sum(r.get("stable") is False for r in rows)
    note = (f"FSL closed forms (unit constants), constant lr={args.lr:g}, b_min={args.b_min:g}, b_max={args.b_max:g}, "
            f"batch1={args.batch1:g}, batch2={'auto' if args.batch2 is None else f'{args.batch2:g}'}, eps={args.eps:g}; "
            "gray: no switch (a constant batch is optimal)")
    fit = getattr(args, "problem_fit", None)
    if fit is not None:
        note += (f"\nproblem {Path(args.problem).name}: fitted beta = {fit.capacity:.4g} +- {fit.capacity_stderr:.2g}, "
                 f"s = {fit.source:.4g} +- {fit.source_stderr:.2g} (1 SE), noise from the file")
    if n_bad:
        note += f"\n* lr past the SGD stability limit at b_min ({n_bad} of {len(rows)} points): such runs diverge"
    fig.text(0.5, 0.004, note, ha="center", va="bottom", fontsize=7.5, color="0.25")
    with plt.rc_context(STYLE):
        fig.tight_layout(rect=(0, min(0.3, 0.17 * (1 + note.count("\n")) / fig.get_size_inches()[1]), 1, 1))
        _replace(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def _num(v) -> float:
    if v is None or isinstance(v, str):
        return float("inf") if v == "inf" else float("nan")
    return float(v)
