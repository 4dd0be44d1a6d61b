"""``batchramp plan``: the fewest serial steps for a target loss, LR and batch planned jointly.

A thin shell over :func:`batchramp_theory.plan` (the exact recursion on a power-law problem or
``--problem FILE``): one progress line per horizon on stderr (a rich bar when stderr is a
terminal), then the front as a table on stdout (steps, samples, the best constant schedule's
samples, the saving against it, the rounding cost, whether the point is on the Pareto front) and
the fewest-steps point's summary. ``--out DIR`` writes ``plan.json`` (``Plan.to_dict()`` and the
problem) and ``front.csv``. ``--export FORMAT`` sends one point (``--point``) through the Seesaw
exporters (:mod:`batchramp_theory.export.from_schedule`) and prices the quantisation on the
plan's own problem (docs/cli.md, "`batchramp plan"; docs/export.md, "Exporting a planner point").
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path

from .args import UsageError, integer, number, writable_dir
from .problem_args import add_power_law_arguments, load_problem

_OPTIMIZERS = ("sgd", "momentum", "nsgd")
# The export formats (batchramp_theory.export.FORMATS, repeated so that --help needs no import).
_FORMATS = ("megatron", "megatron-legacy", "nemo", "maxtext", "olmo-core", "levanter", "optax", "json", "csv")
_EXPORT_FILES = {"json": "export.json", "csv": "export.csv", "optax": "export_optax.py", "levanter": "export_levanter.yaml",
                 "olmo-core": "export_olmo_core.py", "megatron": "export_megatron.txt"}
FRONT_COLUMNS = ("steps", "samples", "constant_samples", "saving_vs_constant", "rounding_samples", "rounding_risk_ratio",
                 "on_front")

# Library words -> this command's flags (cli.args.in_user_words).
USER_WORDS = {
    "target_loss": "--target-loss", "budget": "--budget", "max_batch": "--max-batch", "max_steps": "--max-steps",
    "min_steps": "--min-steps", "points": "--points", "iterations": "--iterations", "knots": "--knots",
    "momentum": "--momentum", "micro_batch": "--micro-batch", "data_parallel": "--data-parallel", "seq_len": "--seq-len",
}


def point_choice(text: str):
    """``--point``: a point index (``>= 0``), ``fewest-steps`` or ``fewest-samples``."""
    if text in ("fewest-steps", "fewest-samples"):
        return text
    return integer(0, what="a point index of the table, fewest-steps or fewest-samples")(text)


def _iterations(values):
    """``--iterations N`` or ``--iterations N_CONSTANT N_SHAPED``."""
    if len(values) > 2:
        raise UsageError(f"--iterations takes one or two numbers, got {len(values)}")
    return values[0] if len(values) == 1 else tuple(values)


def register(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="plan LR and batch jointly: the fewest serial steps for a target loss against the samples they cost",
        description=(
            "For a log-spaced grid of horizons K, find the fewest samples N*(K) whose schedule reaches the target "
            "excess risk, with the per-step LR (a fraction of the stability limit) and batch (1..--max-batch) "
            "optimised jointly on the exact recursion, rounded to integer batches and re-evaluated; print the "
            "(steps, samples) front against the best constant schedule."
        ),
    )
    t = p.add_argument_group("target and limits")
    goal = t.add_mutually_exclusive_group(required=True)
    goal.add_argument("--target", type=number(0, low_open=True, what="an excess risk"), help="target excess risk E*")
    goal.add_argument("--target-loss", type=number(0, low_open=True, what="a population loss"),
                      help="target population loss E* + sigma^2/2")
    t.add_argument("--budget", type=integer(1, what="samples"), required=True, help="the most samples any schedule may use")
    t.add_argument("--max-batch", type=integer(1, what="samples per step"), help="batch cap (default: the budget)")
    t.add_argument("--optimizer", choices=_OPTIMIZERS, default="sgd",
                   help="sgd (default), momentum (--momentum) or nsgd (NormalizedSGD('expected'))")
    t.add_argument("--momentum", type=number(0, 1, high_open=True, what="heavy-ball momentum"), default=None,
                   help="momentum for --optimizer momentum (default 0.9)")
    s = p.add_argument_group("search")
    s.add_argument("--points", type=integer(1, what="horizons"), default=10, help="horizons on the front (default 10)")
    s.add_argument("--max-steps", type=integer(1, what="steps"), default=10_000, help="longest horizon (default 10000)")
    s.add_argument("--min-steps", type=integer(1, what="steps"), default=None,
                   help="shortest horizon (default: the fewest steps a constant schedule at --max-batch needs)")
    s.add_argument("--knots", type=integer(1, what="knots"), nargs="+", default=[4, 16], metavar="N",
                   help="knot counts of the shape and refinement stages (default 4 16)")
    s.add_argument("--iterations", type=integer(1, what="Adam iterations"), nargs="+", default=[30, 80], metavar="N",
                   help="Adam iterations of the constant stage and of each shaped stage, per point (one number: "
                        "both; default 30 80)")
    add_power_law_arguments(p)
    p.add_argument("--out", type=Path, metavar="DIR", help="write plan.json and front.csv (and the export) to DIR")
    e = p.add_argument_group("export one point for a training framework (docs/export.md)")
    e.add_argument("--export", metavar="FORMAT", choices=_FORMATS, help="quantise a point for FORMAT: " + ", ".join(_FORMATS))
    e.add_argument("--point", type=point_choice, default=None, metavar="INDEX|fewest-steps|fewest-samples",
                   help="which point to export (an index of the table; default: fewest steps on the front)")
    e.add_argument("--micro-batch", type=integer(1, what="sequences per device"), default=1, help="micro-batch size per device (default 1)")
    e.add_argument("--data-parallel", type=integer(1, what="devices"), default=1, help="data-parallel size / devices (default 1)")
    e.add_argument("--seq-len", type=integer(1, what="tokens per sequence"), default=1024,
                   help="tokens per sequence (one sample of the plan; default 1024)")
    p.set_defaults(func=run, user_words=USER_WORDS)


def build_problem(args):
    """The problem of the parsed arguments and its JSON summary."""
    import batchramp_theory as bt

    if args.problem is not None:
        problem = load_problem(args.problem, args.noise)
        summary = {"file": str(args.problem), "dim": problem.dim}
    else:
        problem = bt.power_law_problem(args.dim, args.capacity, args.source, args.noise)
        summary = {"dim": args.dim, "capacity": args.capacity, "source": args.source}
    summary.update(noise=float(problem.noise), noise_floor=0.5 * float(problem.noise) ** 2,
                   initial_risk=float(problem.initial_risk))
    return problem, summary


def build_optimizer(args):
    import batchramp_theory as bt

    if args.momentum is not None and args.optimizer != "momentum":
        raise UsageError(f"argument --momentum: applies to --optimizer momentum only, got --optimizer {args.optimizer}")
    if args.optimizer == "momentum":
        return bt.Momentum(0.9 if args.momentum is None else args.momentum)
    return bt.SGD() if args.optimizer == "sgd" else bt.NormalizedSGD("expected")


def progress_reporter(total_hint: int):
    """``(callback, close)``: a rich bar on a terminal, otherwise one line per point on stderr."""
    t0 = time.perf_counter()
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(stderr=True), transient=False)
        bar.start()
        task = bar.add_task("planning", total=total_hint)

        def callback(done, total, message):
            bar.update(task, completed=done, total=total, description=message)

        return callback, bar.stop

    def line(done, total, message):
        print(f"[{done:>{len(str(total))}}/{total}] {message} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)

    return line, lambda: None


def select_point(plan, choice) -> int:
    """The index of the point ``--point`` names (default: fewest steps on the front)."""
    import numpy as np

    front = np.flatnonzero(plan.on_front)
    if choice is None or choice == "fewest-steps":
        return int(front[np.argmin(plan.steps[front])])
    if choice == "fewest-samples":
        return int(front[np.argmin(plan.samples[front])])
    if choice >= len(plan.points):
        raise UsageError(f"argument --point: index {choice} is out of range: the plan has {len(plan.points)} points "
                         f"(0-{len(plan.points) - 1})")
    return int(choice)


def front_rows(plan) -> list[dict]:
    """One row per point: the columns of ``front.csv`` (:data:`FRONT_COLUMNS`)."""
    return [{"steps": p.steps, "samples": p.samples, "constant_samples": float(p.constant_samples),
             "saving_vs_constant": float(p.saving_vs_constant), "rounding_samples": int(p.rounded.rounding_samples),
             "rounding_risk_ratio": float(p.rounded.rounding_risk_ratio), "on_front": bool(f)}
            for p, f in zip(plan.points, plan.on_front)]


def front_csv(plan) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, FRONT_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in front_rows(plan):
        w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})
    return buf.getvalue()


def build_export(args, plan, index: int):
    """``(RampPlan, RunnableRamp, text, QuantizationCost, reaches_target)`` for point ``index`` (also used by tests)."""
    import batchramp_theory as bt
    from batchramp_theory.export import from_schedule

    point = plan.points[index]
    ramp, rr = from_schedule.quantize_schedule(point.schedule, args.export, micro_batch=args.micro_batch,
                                               data_parallel=args.data_parallel, seq_len=args.seq_len)
    text = bt.export.render(rr)
    cost, ok = from_schedule.schedule_quantization_cost(ramp, rr, plan.problem, plan.optimizer, plan.target)
    return ramp, rr, text, cost, ok


def cost_dict(cost) -> dict:
    """The quantisation cost of a planner point in its own words (the planned run is the reference).

    :func:`batchramp_theory.export.from_schedule.schedule_quantization_cost` passes the planned
    schedule as both the ideal ramp and the base, so only these keys of the
    :class:`~batchramp_theory.export.QuantizationCost` differ from one another; the gaps are the
    runnable run's risk over the planned run's at equal samples, minus 1.
    """
    keys = {"risk_planned": "risk_ideal", "risk_runnable": "risk_quantized", "ratio": "ratio_vs_ideal",
            "steps_planned": "steps_ideal", "steps_runnable": "steps_quantized", "b_noise_source": "b_noise_source",
            "crossing_step": "crossing_step", "above_from_start": "above_from_start", "min_margin": "min_margin",
            "crossing_batch": "crossing_batch", "crossing_b_noise": "crossing_b_noise",
            "gap_at_crossing": "gap_at_crossing", "max_gap_after": "max_gap_after"}
    return {"optimizer": cost.optimizer, **{k: getattr(cost, v) for k, v in keys.items()}}


def _table(plan, console) -> None:
    from rich.table import Table

    table = Table(title=f"plan: target excess risk {plan.target:.4g} (E_0 = {plan.initial_risk:.4g}), "
                        f"budget {plan.budget:,}, batch <= {plan.max_batch:,}, {plan.optimizer!r}")
    for col in ("#", "steps", "samples", "constant samples", "saving vs constant", "rounding cost", "on front"):
        table.add_column(col, justify="right", min_width=max(len(w) for w in col.split()))
    for i, r in enumerate(front_rows(plan)):
        const = f"{r['constant_samples']:,.0f}" if r["constant_samples"] != float("inf") else "unreachable"
        table.add_row(str(i), f"{r['steps']:,}", f"{r['samples']:,}", const, f"{100 * r['saving_vs_constant']:.1f}%",
                      f"+{r['rounding_samples']:,} ({100 * r['rounding_risk_ratio']:+.2f}%)",
                      "yes" if r["on_front"] else "")
    console.print(table)


def _summary(plan, index: int, console) -> None:
    p = plan.points[index]
    b, lr = p.batch, p.lr
    const = "unreachable" if p.constant_samples == float("inf") else f"{p.constant_samples:,.0f}"
    console.print(f"fewest steps on the front (#{index}): {p.steps:,} steps, {p.samples:,} samples, final excess risk "
                  f"{p.risk:.6g} (target {plan.target:.6g})")
    console.print(f"  batch {int(b[0])} -> {int(b[-1])} (range {int(b.min())}-{int(b.max())}), lr {lr[0]:.4g} -> "
                  f"{lr[-1]:.4g} (peak {lr.max():.4g})")
    console.print(f"  best constant schedule at {p.steps:,} steps: {const} samples (lr {p.constant_lr:.4g}, batch "
                  f"{p.constant_batch:.4g}); saving {100 * p.saving_vs_constant:.1f}%; rounding to integer batches "
                  f"+{p.rounded.rounding_samples:,} samples")


def _print_export(console, index, rr, cost, ok, target) -> None:
    b = rr.schedule.batch
    console.print(f"[bold]{rr.format}[/] (point #{index}): {rr.schedule.steps:,} steps, batches {int(b[0])} -> {int(b[-1])} "
                  f"(multiples of {rr.constraints.multiple})")
    for n in rr.notes:
        console.print(f"[yellow]note:[/] {n}")
    console.print(f"quantisation cost ({cost.optimizer}, the plan's problem; exact recursion):")
    console.print(f"  final risk  planned {cost.risk_ideal:.6g}  runnable {cost.risk_quantized:.6g}  "
                  f"(ratio {cost.ratio_vs_ideal:.6f}); target {target:.6g} {'reached' if ok else '[red]NOT reached[/]'}")
    console.print(f"  steps       planned {cost.steps_ideal:,}  runnable {cost.steps_quantized:,}")


def run(args) -> int:
    from rich.console import Console

    import batchramp_theory as bt

    from ..figures._style import jsonable

    if args.point is not None and not args.export:
        raise UsageError("argument --point: selects the point to export; give --export FORMAT too")
    if args.export:
        from batchramp_theory.export.from_schedule import REFUSED

        if args.export in REFUSED:  # before the work, not after it
            raise UsageError(f"argument --export: {REFUSED[args.export]}")
    problem, summary = build_problem(args)
    optimizer = build_optimizer(args)
    if args.out is not None:
        writable_dir("--out", args.out)
    callback, close = progress_reporter(args.points)
    try:
        plan = bt.plan(problem, target=args.target, target_loss=args.target_loss, budget=args.budget,
                       max_batch=args.max_batch, optimizer=optimizer, points=args.points, max_steps=args.max_steps,
                       min_steps=args.min_steps, knots=tuple(args.knots), iterations=_iterations(args.iterations), progress=callback)
    finally:
        close()
    console = Console(width=max(Console().width, 110))
    _table(plan, console)
    front = [i for i, f in enumerate(plan.on_front) if f]
    if not front:
        raise ValueError(f"no planned point is within --budget {args.budget} after rounding to integer batches; "
                         f"raise --budget")
    _summary(plan, select_point(plan, "fewest-steps"), console)
    d = {"problem": summary, **plan.to_dict()}
    exported, failed = None, None
    if args.export:
        index = select_point(plan, args.point)
        try:
            exported = build_export(args, plan, index)
        except ValueError as exc:  # the format cannot run this point: keep the plan's files, then say why
            failed = exc
        else:
            _, rr, text, cost, ok = exported
            d["export"] = {"format": rr.format, "point": index, "text": text, "notes": list(rr.notes),
                           "steps": rr.schedule.steps, "micro_batch": args.micro_batch,
                           "data_parallel": args.data_parallel, "seq_len": args.seq_len, "reaches_target": ok,
                           "cost": cost_dict(cost)}
    if args.out is not None:
        (args.out / "plan.json").write_text(json.dumps(jsonable(d), indent=1, allow_nan=False))
        (args.out / "front.csv").write_text(front_csv(plan))
        written = [args.out / "plan.json", args.out / "front.csv"]
        if exported is not None:
            path = args.out / _EXPORT_FILES.get(rr.format, f"export_{rr.format}.txt")
            path.write_text(text + "\n")
            written.append(path)
            if rr.format == "olmo-core":  # the LR to give OLMo-core's scheduler (the callback's factor divided out)
                lr_path = path.with_name(path.name + ".lr.csv")
                lr_path.write_text(bt.export.olmo_core.render_olmo_lr(rr))
                written.append(lr_path)
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    if failed is not None:
        raise failed
    if exported is not None:
        if args.out is None:
            print(text)
        _print_export(console, index, rr, cost, ok, plan.target)
    return 0
