"""``batchramp seesaw``: convert a learning-rate schedule into a batch ramp for real training.

Given a token budget, an initial batch (sequences), the sequence length and the base
schedule (warmup fraction, final LR fraction), it prints the ramp table (milestone tokens,
step, LR, batch), the serial steps of base and ramp and the reduction; ``--json`` prints the
same as JSON (keys include ``base_steps``, ``ramp_steps``, ``milestones``). The construction
is :func:`batchramp_theory.ramp_schedule` (the official Seesaw repo's milestone and batch
logic; docs/equivalence.md).

``--export FORMAT`` also quantises the ramp for a framework (``--micro-batch``,
``--data-parallel``, ``--seq-len``; :func:`batchramp_theory.export.quantize`), prints or writes
(``--out``) the text to paste, and reports what the quantisation costs by the exact recursion
(:func:`batchramp_theory.export.quantization_cost`; docs/export.md).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from .args import UsageError, fraction, in_user_words, integer, number, writable_file
from .problem_args import add_problem_argument, load_problem

_BASES = ("cosine", "quarter-cosine", "linear", "exponential")
_RULES = ("seesaw", "decay", "ramp")
# The export formats (batchramp_theory.export.FORMATS, repeated so that --help needs no import).
_FORMATS = ("megatron", "megatron-legacy", "nemo", "maxtext", "olmo-core", "levanter", "optax", "json", "csv")

# Library words -> this command's flags and units (cli.args.in_user_words): the base is in tokens.
USER_WORDS = {
    "budget": "--tokens", "total_samples": "--tokens", "tokens_per_sample": "--seq-len",
    "final_fraction": "--final-lr", "warmup_fraction": "--warmup", "warmup_start": "--warmup-start",
    "max_batch": "--max-batch", "lr0": "--lr", "cut": "--cut-factor", "lr_factor": "--lr-factor",
    "batch_factor": "--batch-factor", "samples": "tokens",
}


def register(sub) -> None:
    p = sub.add_parser(
        "seesaw",
        help="turn an LR schedule into an equivalent batch ramp (Seesaw / Smith) and count serial steps",
        description=(
            "Convert a base LR schedule (default: OLMo half cosine with linear warmup) into a batch ramp: "
            "wherever the base LR first falls to lr0*gamma^-k (gamma = --cut-factor), divide the LR by alpha "
            "(--lr-factor) and multiply the batch by beta (--batch-factor): alpha*sqrt(beta) = gamma on the "
            "NSGD/Adam line, alpha*beta = gamma on the SGD line."
        ),
    )
    p.add_argument("--tokens", type=number(0, low_open=True, what="a token budget, e.g. 3.3e9"), required=True,
                   help="token budget, e.g. 3.3e9")
    p.add_argument("--batch", type=integer(1, what="sequences per step"), required=True, help="initial batch size in sequences")
    p.add_argument("--seq-len", type=integer(1, what="tokens per sequence"), default=1024, help="tokens per sequence (default 1024)")
    p.add_argument("--lr", type=number(0, low_open=True, what="the peak learning rate, e.g. 3e-3"), default=None,
                   help="peak learning rate lr0 (default: print lr/lr0)")
    p.add_argument("--base", choices=_BASES, default="cosine", help="base schedule after warmup (default: half cosine)")
    p.add_argument("--warmup", type=fraction(high_open=True, what="a fraction of the tokens"), default=0.1, help="warmup fraction of the tokens, in [0, 1) (default 0.1)")
    p.add_argument("--warmup-start", type=fraction(what="a fraction of lr0"), default=0.1, help="warmup starts at this fraction of lr0 (default 0.1)")
    p.add_argument("--final-lr", type=fraction(what="a fraction of lr0"), default=0.1, help="final LR as a fraction of lr0 (default 0.1)")
    p.add_argument("--cut-factor", type=number(1, low_open=True, what="gamma, e.g. 1.1 or 2"), default=1.1, help="gamma: the base cut per milestone (default 1.1)")
    p.add_argument("--rule", choices=_RULES, default="seesaw",
                   help="seesaw: (sqrt(gamma), gamma); decay: (gamma, 1); ramp: alpha = 1 (default seesaw)")
    p.add_argument("--lr-factor", "--alpha", dest="lr_factor", type=number(0, low_open=True, what="alpha"),
                   help="alpha: custom LR divisor per cut (overrides --rule; --alpha is the old spelling)")
    p.add_argument("--batch-factor", "--beta", dest="batch_factor", type=number(1, what="beta"),
                   help="beta: custom batch multiplier per cut (overrides --rule; --beta is the old spelling)")
    p.add_argument("--line", choices=("nsgd", "sgd"), default="nsgd",
                   help="nsgd (Adam-like): alpha*sqrt(beta)=gamma; sgd: alpha*beta=gamma (default nsgd)")
    p.add_argument("--max-batch", type=integer(1, what="sequences"), help="cap the batch (sequences); beyond it the cut becomes LR decay")
    p.add_argument("--rounding", choices=("floor", "olmo"), default="floor",
                   help="batch rounding: floor of the float accumulator, or the repo's floor/ceil rule")
    p.add_argument("--strict", action="store_true", help="error if a ramp step would exceed the token budget")
    p.add_argument("--json", nargs="?", const="-", metavar="PATH", help="print JSON (to PATH, or stdout)")
    e = p.add_argument_group("export for a training framework (docs/export.md)")
    e.add_argument("--export", metavar="FORMAT", choices=_FORMATS,
                   help="quantise the ramp for FORMAT and print its settings: " + ", ".join(_FORMATS))
    e.add_argument("--micro-batch", type=integer(1, what="sequences per device"), default=1, help="micro-batch size per device (default 1)")
    e.add_argument("--data-parallel", type=integer(1, what="devices"), default=1, help="data-parallel size / devices (default 1)")
    e.add_argument("--out", metavar="PATH", help="write the exported settings to PATH instead of printing them")
    e.add_argument("--no-cost", action="store_true", help="skip the exact-recursion cost of the quantisation")
    e.add_argument("--b-noise", type=number(1, what="sequences"), help="a measured B_noise (sequences) instead of the problem's")
    e.add_argument("--cost-lr", type=number(0, low_open=True), help="peak learning rate on the cost problem (default: half the "
                   "SGD stability limit at the initial batch, NSGD matched to it)")
    add_problem_argument(e, "--problem-file")  # --problem-file: this command's first spelling, kept as an alias
    e.add_argument("--dim", type=integer(1, what="modes"), default=1000, help="power-law cost problem: modes (default 1000)")
    e.add_argument("--capacity", type=number(1, low_open=True, what="beta"), default=2.0, help="power-law capacity exponent (default 2)")
    e.add_argument("--source", type=number(0, low_open=True, what="s"), default=0.5, help="power-law source exponent (default 0.5)")
    e.add_argument("--noise", type=number(0, what="label-noise std"), default=0.5, help="power-law label-noise std (default 0.5)")
    p.set_defaults(func=run, user_words=USER_WORDS)


def build_plan(args):
    """The :class:`RampPlan` for parsed CLI arguments (also used by tests)."""
    import batchramp_theory as bt

    if args.seq_len < 1:
        raise ValueError(f"--seq-len must be >= 1 (a sequence length of 0 has no tokens), got {args.seq_len}")
    lr0 = 1.0 if args.lr is None else args.lr
    kw = dict(warmup_fraction=args.warmup, warmup_start=args.warmup_start)
    if args.base == "cosine":
        base = bt.half_cosine_lr(lr0, args.tokens, args.final_lr, **kw)
    elif args.base == "quarter-cosine":
        base = bt.quarter_cosine_lr(lr0, args.tokens, args.final_lr, **kw)
    elif args.base == "linear":
        base = bt.linear_lr(lr0, args.tokens, args.final_lr, **kw)
    else:
        base = bt.exponential_lr(lr0, args.tokens, args.final_lr, **kw)
    if args.lr_factor is not None or args.batch_factor is not None:
        rule = bt.ramp_rule(args.cut_factor, lr_factor=args.lr_factor, batch_factor=args.batch_factor, line=args.line)
    elif args.rule == "seesaw":
        if args.line == "sgd":
            raise ValueError(
                "--rule seesaw is the NSGD point (sqrt(gamma), gamma); use --line nsgd or --lr-factor/--batch-factor"
            )
        rule = bt.seesaw_rule(args.cut_factor)
    elif args.rule == "decay":
        rule = bt.lr_decay_rule(args.cut_factor, line=args.line)
    else:
        rule = bt.batch_ramp_rule(args.cut_factor, line=args.line)
    return bt.ramp_schedule(
        base, args.batch, rule, max_batch=args.max_batch, rounding=args.rounding,
        tokens_per_sample=args.seq_len, strict=args.strict,
    )


def plan_to_dict(plan, relative_lr: bool) -> dict:
    acc = plan.accounting
    rule = plan.rule
    return {
        "base": plan.base_lr.describe(),
        # "alpha", "beta", "gamma": the pre-rename keys, kept for existing readers of the JSON.
        "rule": {"lr_factor": rule.lr_factor, "batch_factor": rule.batch_factor, "cut": rule.cut,
                 "alpha": rule.lr_factor, "beta": rule.batch_factor, "gamma": rule.cut, "line": rule.line,
                 "admissible": rule.admissible},
        "lr_units": "lr/lr0" if relative_lr else "absolute",
        "seq_len": plan.tokens_per_sample,
        "initial_batch": int(plan.schedule.batch[0]),
        "token_budget": acc.budget,
        "base_steps": acc.base_steps,
        "ramp_steps": acc.ramp_steps,
        "reduction": acc.reduction,
        "continuous_reduction": acc.continuous_reduction,
        "stepwise_reduction": acc.stepwise_reduction,
        "base_tokens": acc.base_samples,
        "ramp_tokens": acc.ramp_samples,
        "overshoot_tokens": acc.overshoot,
        "final_lr": float(plan.schedule.lr[-1]),
        "final_batch": int(plan.schedule.batch[-1]),
        "milestones": [
            {"k": r["k"], "tokens": r["samples"], "step": r["step"], "lr": r["lr"], "batch": r["batch"],
             "capped": r["capped"]}
            for r in plan.table()
        ],
    }


def bt_export():
    """The :mod:`batchramp_theory.export` package (imported on use, so ``--help`` stays fast)."""
    import batchramp_theory.export as export

    return export


def build_export(args, plan):
    """``(RunnableRamp, text, QuantizationCost | None)`` for ``--export`` (also used by tests)."""
    import batchramp_theory as bt

    for name, v in (("--micro-batch", args.micro_batch), ("--data-parallel", args.data_parallel)):
        if v < 1:
            raise ValueError(f"{name} must be >= 1, got {v}")
    rr = bt.export.quantize(plan, args.export, micro_batch=args.micro_batch, data_parallel=args.data_parallel,
                            seq_len=args.seq_len, warn=False)
    text = bt.export.render(rr)
    if args.no_cost:
        return rr, text, None
    if args.problem is not None:
        problem = load_problem(args.problem, args.noise)
    else:
        problem = bt.power_law_problem(args.dim, args.capacity, args.source, args.noise)
    cost = bt.export.quantization_cost(plan, rr, problem, lr=args.cost_lr, b_noise=args.b_noise)
    return rr, text, cost


def _print_cost(console, rr, cost) -> None:
    console.print(f"[bold]{rr.format}[/]: {rr.schedule.steps:,} steps, batches "
                  f"{int(rr.schedule.batch[0])} -> {int(rr.schedule.batch[-1])} (multiples of {rr.constraints.multiple})")
    for n in rr.notes:
        console.print(f"[yellow]note:[/] {n}")
    if cost is None:
        return
    console.print(f"quantisation cost ({cost.optimizer}, peak lr {cost.lr:.4g} on the cost problem; exact recursion):")
    console.print(f"  final risk  decay {cost.risk_decay:.6g}  ideal ramp {cost.risk_ideal:.6g}  "
                  f"quantised {cost.risk_quantized:.6g}")
    console.print(f"  ratio       vs ideal {cost.ratio_vs_ideal:.6f}  vs decay {cost.ratio_vs_decay:.6f}")
    console.print(f"  steps       decay {cost.steps_decay:,}  ideal {cost.steps_ideal:,}  quantised {cost.steps_quantized:,}")
    if cost.crossing_step < 0:
        console.print(f"  B_noise ({cost.b_noise_source}): the batch never passes it "
                      f"(closest: B_noise = {cost.min_margin:.3g} x batch)")
    elif cost.above_from_start:
        console.print(f"  B_noise ({cost.b_noise_source}): the batch is above B_noise from step 0 "
                      f"({cost.crossing_b_noise:.4g} < {cost.crossing_batch:g}); the ramp is outside Seesaw's regime")
    else:
        console.print(f"  B_noise ({cost.b_noise_source}): batch {cost.crossing_batch:g} passes B_noise "
                      f"{cost.crossing_b_noise:.4g} at step {cost.crossing_step:,}; gap to decay at equal samples "
                      f"{100 * cost.gap_at_crossing:+.3f}% there, at most {100 * cost.max_gap_after:+.3f}% after")


def run(args) -> int:
    from rich.console import Console

    one_batch = args.batch * args.seq_len
    if args.tokens < one_batch:
        raise UsageError(
            f"argument --tokens: {args.tokens:,.6g} tokens is less than one step "
            f"(--batch {args.batch} x --seq-len {args.seq_len} = {one_batch:,} tokens); give at least that"
        )
    if args.json not in (None, "-"):
        writable_file("--json", Path(args.json))  # before the work, not after it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        plan = build_plan(args)
    notes = [in_user_words(str(w.message), NOTE_WORDS) for w in caught if issubclass(w.category, RuntimeWarning)]
    d = plan_to_dict(plan, relative_lr=args.lr is None)
    exported = build_export(args, plan) if args.export else None
    if exported is not None:
        rr, text, cost = exported
        d["export"] = {"format": rr.format, "text": text, "notes": list(rr.notes), "steps": rr.schedule.steps,
                       "micro_batch": args.micro_batch, "data_parallel": args.data_parallel}
        d["cost"] = None if cost is None else {
            k: (None if isinstance(v, float) and v != v else v) for k, v in cost._asdict().items()}
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(text + "\n")
            print(f"wrote {args.out}", file=sys.stderr)
            if rr.format == "olmo-core":  # the LR to give OLMo-core's scheduler (the callback's factor divided out)
                Path(args.out + ".lr.csv").write_text(bt_export().olmo_core.render_olmo_lr(rr))
                print(f"wrote {args.out}.lr.csv", file=sys.stderr)
    if args.json is not None:
        d["notes"] = notes
        text = json.dumps(d, indent=2, allow_nan=False, default=float)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
            print(f"wrote {args.json}", file=sys.stderr)
        return 0
    console = Console()
    rule = plan.rule
    base = plan.base_lr
    console.print(
        f"base: {base.name} over {d['token_budget']:.6g} tokens, warmup {args.warmup:g} from "
        f"{args.warmup_start:g}*lr0, final {args.final_lr:g}*lr0; batch {d['initial_batch']} x {args.seq_len} tokens"
    )
    console.print(
        f"rule: alpha={rule.lr_factor:.6g}, beta={rule.batch_factor:.6g} per cut of gamma={rule.cut:g} on the "
        f"{rule.line.upper()} line" + ("" if rule.admissible else "  [red](outside the theory: alpha < sqrt(beta))[/]")
    )
    table, unreached = ramp_table(plan, d, args)
    console.print(table)
    if unreached:
        console.print(unreached)
    console.print(f"base steps  {d['base_steps']:>10,}  ({d['base_tokens']:,} tokens)")
    console.print(f"ramp steps  {d['ramp_steps']:>10,}  ({d['ramp_tokens']:,} tokens, {d['overshoot_tokens']:,} past the budget)")
    console.print(
        f"reduction   {100 * d['reduction']:.2f}%  (limits: {100 * d['stepwise_reduction']:.2f}% for these cuts "
        f"with B0 << budget, {100 * d['continuous_reduction']:.2f}% continuous)"
    )
    for n in notes:
        console.print(f"[yellow]note:[/] {n}")
    if exported is not None:
        rr, text, cost = exported
        if not args.out:
            print(text)
        _print_cost(console, rr, cost)
    return 0


# Words of the converter's notes in this command's units (its base is in tokens).
NOTE_WORDS = {"samples": "tokens", "max_batch": "--max-batch"}


def ramp_table(plan, d: dict, args):
    """The ramp table: start of warmup, end of warmup (peak LR), each cut reached; and a line for the cuts not reached.

    Rows: ``start`` (step 0 at the warmup's first LR), ``peak`` (the first step at or past the warmup's
    end, at ``lr0``; absent without warmup), then milestone ``k`` with the LR and batch from that
    step on. Milestones the run never reaches (the base falls to ``lr0 gamma^-k`` only past the
    budget, or so late that the run ends first, e.g. ``--final-lr 0``) are summed up in the second
    return value, one line (empty if every cut is reached).
    """
    import numpy as np
    from rich.table import Table

    lr_head = "lr/lr0" if args.lr is None else "lr"
    table = Table(title="ramp table")
    for col in ("k", "tokens", "step", lr_head, "batch", "capped"):
        table.add_column(col, justify="right", min_width=len(col))  # a header never breaks mid-word
    sched = plan.schedule
    table.add_row("start", "0", "0", f"{sched.lr[0]:.6g} (warmup)" if args.warmup > 0 else f"{sched.lr[0]:.6g}",
                  str(d["initial_batch"]), "")
    if args.warmup > 0:
        seen = np.concatenate([[0], np.cumsum(np.asarray(sched.batch, dtype=np.int64))]) * plan.tokens_per_sample
        k = int(np.searchsorted(seen, plan.base_lr.warmup_samples, side="left"))
        if k < sched.steps:
            table.add_row("peak", f"{int(seen[k]):,}", str(k), f"{sched.lr[k]:.6g} (peak)", str(int(sched.batch[k])), "")
    reached = [r for r in d["milestones"] if r["step"] >= 0]
    for r in reached:
        table.add_row(str(r["k"]), f"{r['tokens']:,}", str(r["step"]), f"{r['lr']:.6g}", str(r["batch"]),
                      "yes" if r["capped"] else "")
    missed = [r for r in d["milestones"] if r["step"] < 0]
    if missed:
        ks = f"cut {missed[0]['k']}" if len(missed) == 1 else f"cuts {missed[0]['k']}-{missed[-1]['k']}"
        return table, f"{ks} (from {missed[0]['tokens']:,} tokens) not reached: the run ends first"
    return table, ""
