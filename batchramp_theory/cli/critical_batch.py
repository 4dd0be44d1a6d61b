"""``batchramp critical-batch``: McCandlish's steps/samples trade-off and B_crit against the budget."""

from __future__ import annotations

import json
from pathlib import Path

from .args import integer, number, writable_dir
from .problem_args import add_power_law_arguments, load_problem

_OPTIMIZERS = ("sgd", "nsgd")

# Library words -> this command's flags (cli.args.in_user_words).
USER_WORDS = {"dim": "--dim", "capacity": "--capacity", "source": "--source", "noise": "--noise",
              "targets": "--targets", "steps": "--steps", "lr": "--lr", "batches": "--min-batch/--max-batch"}


def register(sub) -> None:
    p = sub.add_parser(
        "critical-batch",
        help="fit the steps/samples trade-off per target, report B_crit vs B_noise and B_crit against the data budget",
        description=(
            "For every batch in a ladder, find the fewest steps S(B) that reach each excess-risk target "
            "(exact recursion, one vmapped call), fit McCandlish's (S/S_min-1)(E/E_min-1)=1, and report "
            "B_crit = E_min/S_min against B_noise, and the exponent of B_crit against the budget D = E_min."
        ),
    )
    add_power_law_arguments(p)
    r = p.add_argument_group("runs")
    r.add_argument("--min-batch", type=integer(1), default=1, help="smallest batch (default 1)")
    r.add_argument("--max-batch", type=integer(1), default=1024, help="largest batch; batches double in between (default 1024)")
    r.add_argument("--targets", type=number(0, low_open=True, what="excess risks"), nargs="+", metavar="E", help="excess-risk targets (default: 8 automatic ones)")
    r.add_argument("--steps", type=integer(1), default=16000, help="horizon of every run in steps (default 16000)")
    r.add_argument("--policy", choices=("tuned", "fixed", "greedy"), default="tuned",
                   help="LR per batch: tuned constant (default), one fixed constant (--lr), or McCandlish's greedy step")
    r.add_argument("--lr", type=number(0, low_open=True), help="the learning rate for --policy fixed")
    r.add_argument("--optimizer", choices=_OPTIMIZERS, default="sgd", help="sgd (default) or nsgd (NormalizedSGD('expected'))")
    p.add_argument("--detail", type=int, default=-1, metavar="I", help="print the per-batch table of target I (default: the last)")
    p.add_argument("--out", type=Path, default=Path("critical_batch_out"), metavar="DIR",
                   help="folder for critical_batch.json and critical_batch.png (default critical_batch_out)")
    p.set_defaults(func=run, user_words=USER_WORDS)


def _batch_ladder(lo: int, hi: int):
    import numpy as np

    if lo < 1 or hi < lo:
        raise ValueError(f"--min-batch ({lo}) must be <= --max-batch ({hi})")
    out = [lo]
    while out[-1] * 2 <= hi:
        out.append(out[-1] * 2)
    if len(out) < 3:
        raise ValueError(f"--min-batch {lo} .. --max-batch {hi} doubles to {len(out)} batch(es); need at least 3 (e.g. --max-batch {4 * lo})")
    return np.array(out)


def run(args) -> int:
    import matplotlib.pyplot as plt
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    import batchramp_theory as bt

    from ..figures._style import STYLE, jsonable, problem_text, subplots
    from ..verify.predictions import critical_batch_budget_exponent, time_transfer_budget_exponent

    console = Console()
    if args.policy == "fixed" and args.lr is None:
        raise ValueError("--policy fixed needs --lr")
    if args.policy == "greedy" and args.optimizer != "sgd":
        raise ValueError("--policy greedy is defined for --optimizer sgd only")
    if args.problem is not None:
        problem = load_problem(args.problem, args.noise)
    else:
        problem = bt.power_law_problem(args.dim, args.capacity, args.source, args.noise)
    writable_dir("--out", args.out)  # before the work, not after it
    opt = bt.SGD() if args.optimizer == "sgd" else bt.NormalizedSGD("expected")
    batches = _batch_ladder(args.min_batch, args.max_batch)
    with console.status(f"running {batches.size} batches x LR grid for {args.steps} steps (one vmapped recursion)"):
        if args.policy == "fixed":
            if args.targets is None:
                raise ValueError("--policy fixed needs --targets (automatic targets use the tuned runs)")
            trs = bt.tradeoff(problem, batches, args.targets, steps=args.steps, policy="fixed", lr=args.lr, optimizer=opt)
            scaling = None
        else:
            scaling = bt.critical_batch_vs_budget(problem, batches, args.targets, steps=args.steps, policy=args.policy, optimizer=opt)
            trs = scaling.tradeoffs

    summary = Table(title=f"critical batch: {problem!r}, {args.optimizer}, policy {args.policy}")
    for col in ("target", "D = E_min", "S_min", "B_crit", "B_noise at B_crit", "B_crit / B_noise", "max |S/S_fit - 1|"):
        summary.add_column(col, justify="right", min_width=max(len(w) for w in col.split()))
    for t in trs:
        if t.fit is None:
            summary.add_row(f"{t.target:.4g}", "-", "-", "-", "-", "-", "fit failed (too few batches reached it)")
            continue
        summary.add_row(
            f"{t.target:.4g}", f"{t.fit.e_min:.4g}", f"{t.fit.s_min:.4g}", f"{t.fit.b_crit:.4g}",
            f"{t.b_noise_at_crit:.4g}", f"{t.fit.b_crit / t.b_noise_at_crit:.3g}", f"{t.fit.max_rel_residual:.3f}",
        )
    console.print(summary)
    if scaling is not None:
        e, n = scaling.exponent, scaling.noise_exponent
        console.print(
            f"B_crit ~ D^{e.slope:.3f} (stderr {e.slope_stderr:.3f}); B_noise ~ D^{n.slope:.3f}; "
            f"constant-LR FSL prediction s/(1+s) = {critical_batch_budget_exponent(args.source):.3f}; "
            f"Time Transfer: {time_transfer_budget_exponent():g}"
        )
    t = trs[args.detail]
    detail = Table(title=f"per batch, target {t.target:.4g}")
    for col in ("B", "steps S", "samples E", "lr", "B_noise", "B_simple", "S fit"):
        detail.add_column(col, justify="right", min_width=max(len(w) for w in col.split()))
    for i, b in enumerate(t.batches):
        fit = f"{t.fit.s_min * (1 + t.fit.b_crit / b):.4g}" if t.fit is not None else "-"
        detail.add_row(str(b), f"{t.steps[i]:.4g}", f"{t.samples[i]:.4g}", f"{t.lr[i]:.4g}", f"{t.b_noise[i]:.4g}", f"{t.b_simple[i]:.4g}", fit)
    console.print(detail)

    args.out.mkdir(parents=True, exist_ok=True)
    payload = {
        "problem": {"file": str(args.problem), "dim": problem.dim, "noise": float(problem.noise)} if args.problem
        else {"dim": args.dim, "capacity": args.capacity, "source": args.source, "noise": args.noise},
        "optimizer": args.optimizer, "policy": args.policy, "lr": args.lr, "steps": args.steps,
        "targets": [
            {
                "target": t.target, "batches": t.batches, "steps": t.steps, "samples": t.samples, "lr": t.lr,
                "b_noise": t.b_noise, "b_simple": t.b_simple, "b_noise_at_crit": t.b_noise_at_crit,
                "fit": None if t.fit is None else {
                    "s_min": t.fit.s_min, "e_min": t.fit.e_min, "b_crit": t.fit.b_crit,
                    "max_rel_residual": t.fit.max_rel_residual,
                },
            }
            for t in trs
        ],
    }
    if scaling is not None:
        payload["budget_exponent"] = scaling.exponent._asdict()
        payload["b_noise_exponent"] = scaling.noise_exponent._asdict()
    (args.out / "critical_batch.json").write_text(json.dumps(jsonable(payload), indent=1))

    fig, (ax0, ax1) = subplots(1, 2, figsize=(9, 3.6))
    colors = [f"C{i % 10}" for i in range(len(trs))]
    for c, t in zip(colors, trs):
        ok = np.isfinite(t.steps)
        ax0.plot(t.samples[ok], t.steps[ok], "o", color=c, ms=3, label=f"target {t.target:.3g}")
        if t.fit is not None:
            bb = np.geomspace(t.batches[0], t.batches[-1], 100)
            ax0.plot(bb * t.fit.s_min * (1 + t.fit.b_crit / bb), t.fit.s_min * (1 + t.fit.b_crit / bb), "-", color=c, lw=0.8)
    ax0.set(xscale="log", yscale="log", xlabel="samples to target E (examples)", ylabel="steps to target S",
            title="steps vs samples (lines: McCandlish fit)")
    ax0.legend(fontsize=6)
    if scaling is not None:
        ax1.plot(scaling.budget, scaling.b_crit, "o-", label=f"B_crit (fit slope {scaling.exponent.slope:.2f})")
        ax1.plot(scaling.budget, scaling.b_noise, "s--", label=f"B_noise at B_crit (slope {scaling.noise_exponent.slope:.2f})")
        ax1.set(xscale="log", yscale="log", xlabel="data budget D = E_min (samples)", ylabel="batch size (samples/step)",
                title="critical batch vs budget")
        ax1.legend(fontsize=7)
    else:
        ax1.set_axis_off()
    fig.text(0.5, 0.004, problem_text(args.dim, args.capacity, args.source, args.noise, optimizer=args.optimizer,
                                      policy=args.policy, steps=args.steps), ha="center", va="bottom", fontsize=7.5, color="0.25")
    with plt.rc_context(STYLE):
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        fig.savefig(args.out / "critical_batch.png")
    plt.close(fig)
    console.print(f"wrote {args.out / 'critical_batch.json'} and {args.out / 'critical_batch.png'}")
    return 0
