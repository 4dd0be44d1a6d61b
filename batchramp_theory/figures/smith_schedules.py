"""Smith et al. 2017: decaying the learning rate vs increasing the batch vs a hybrid, with momentum.

The base divides the learning rate by 5 at 30%, 60% and 80% of the samples (the factor-5 steps of
Smith et al.); the ramp multiplies the batch by 5 instead (alpha = 1, beta = 5 on the SGD line);
the hybrid ramps the batch up to a cap of 25 B0 and then falls back to LR decay. Exact expected
risk for SGD and heavy-ball momentum (m = 0.9, lr/(1-m) as the effective learning rate), in the
small-lr regime. Bottom row: the noise-scale invariances B ~ lr and B ~ 1/(1 - m).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory.verify.bands import around, max_log_ratio, within
from batchramp_theory.verify.predictions import ramp_step_ratio

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Smith et al. 2017: LR decay vs batch increase vs hybrid (SGD and momentum), and B ~ lr, B ~ 1/(1-m)"
NAME = "smith_schedules"


def _at(sched, risk, points):
    return np.asarray(risk)[np.minimum(np.searchsorted(sched.samples_seen, points), sched.steps)]


def _invariance_panel(ax, scheds, risks, ref_name, chk, rule, data, claims, detail, title):
    """Risk against samples for runs that ``rule`` says are equivalent to ``ref_name``.

    Each run's deviation is the max |log risk ratio| to the reference at the sample checkpoints
    ``chk``; members must stay within 2%, runs named "control" must leave it.
    """
    ref = _at(scheds[ref_name], risks[ref_name], chk)
    for name, sch in scheds.items():
        ctrl = "control" in name
        ax.plot(sch.samples_seen, risks[name][: sch.steps + 1], ":" if ctrl else "-", label=name)
        dev = max_log_ratio(ref, _at(sch, risks[name], chk))
        data.setdefault(rule, {})[name] = dev
        if name != ref_name:
            claims.append(within(f"{rule}: {name} vs {ref_name}", dev, (0.02, np.inf) if ctrl else 0.02, figure=NAME,
                                 predicted="> 0.02" if ctrl else "<= 0.02", reason=detail))
    ax.set(xscale="log", yscale="log", xlabel="samples", ylabel="expected excess risk", title=title)
    ax.legend(fontsize=7)


def make(out_dir: Path, quick: bool) -> list[Claim]:
    dim, steps = (128, 30000) if quick else (1024, 150000)
    p = bt.power_law_problem(dim, capacity=2.0, source=1.0, noise=0.5)
    tr = p.trace
    b0 = 4
    total = float(b0 * steps)
    ms = [0.3 * total, 0.6 * total, 0.8 * total]
    points = np.asarray(ms + [total])
    fig, axes = subplots(2, 3, figsize=(15, 8))
    claims, data = [], {}
    styles = {"decay": ("k", "-"), "ramp": ("C0", "--"), "hybrid": ("C1", "-.")}
    for col, (opt, lr, tag) in enumerate([(bt.SGD(), 0.05 / tr, "SGD"), (bt.Momentum(0.9), 0.005 / tr, "Momentum(0.9)")]):
        base = bt.step_lr(lr, total, ms, 5.0)
        plans = {
            "decay": bt.ramp_schedule(base, b0, bt.lr_decay_rule(5.0, "sgd")),
            "ramp": bt.ramp_schedule(base, b0, bt.batch_ramp_rule(5.0, "sgd")),
            "hybrid": bt.ramp_schedule(base, b0, bt.batch_ramp_rule(5.0, "sgd"), max_batch=25 * b0),
        }
        risks = dict(zip(plans, bt.expected_risk(p, [pl.schedule for pl in plans.values()], opt)))
        ref = _at(plans["decay"].schedule, risks["decay"], points)
        for name, pl in plans.items():
            s, r = pl.schedule, risks[name][: pl.schedule.steps + 1]
            c, ls = styles[name]
            lab = f"{name}: {s.steps} steps, batch {int(s.batch[0])}->{int(s.batch.max())}"
            axes[0, col].plot(s.samples_seen, r, ls, color=c, label=lab)
            axes[0, 2].plot(np.arange(s.steps + 1), r, ls, color=c if col == 0 else f"C{3 + list(plans).index(name)}",
                            label=f"{tag} {name}")
            dev = max_log_ratio(ref, _at(s, risks[name], points))
            data.setdefault(tag, {})[name] = {"samples": s.samples_seen, "risk": r, "steps": s.steps, "max_log_ratio": dev}
            if name != "decay":
                claims.append(within(f"{tag}: {name} vs decay, max |log risk ratio| at milestones and end", dev, 0.02, figure=NAME,
                                     predicted="<= 0.02", reason="equal samples; small-lr regime lr/(1-m) = 0.05/trH"))
        # Serial steps: the ramp's batch is B0 * 5^k, so steps = sum_k samples_k / (B0 5^k).
        frac = np.diff(np.concatenate([[0.0], points])) / total
        want = ramp_step_ratio(frac, 5.0)
        got = plans["ramp"].accounting.ramp_steps / plans["decay"].accounting.ramp_steps
        claims.append(around(f"{tag}: ramp steps / decay steps", got, want, 2e-3, figure=NAME, predicted=f"{want:.4f} (sum_k f_k 5^-k)",
                             reason="pure accounting, up to the last step's overshoot"))
        for m in ms:
            axes[0, col].axvline(m, color="0.85", lw=0.6, zorder=0, label="milestones (cuts)" if m == ms[0] else None)
        axes[0, col].set(xscale="log", yscale="log", xlabel="samples", ylabel="expected excess risk",
                         title=f"{tag}: decay vs ramp vs hybrid (equal samples)")
        axes[0, col].legend(fontsize=7)
    axes[0, 2].set(yscale="log", xlabel="serial steps", ylabel="expected excess risk", title="the same against steps")
    axes[0, 2].legend(fontsize=6.5)

    # Bottom row: invariances at constant (lr, B), risk against samples.
    n = steps // 2
    lr = 0.02 / tr
    chk = np.linspace(0.1, 1.0, 10) * n * b0
    runs = {
        "(lr, B)": bt.constant(lr, b0, n),
        "(2 lr, 2 B)": bt.constant(2 * lr, 2 * b0, n // 2),
        "(4 lr, 4 B)": bt.constant(4 * lr, 4 * b0, n // 4),
        "(2 lr, B) control": bt.constant(2 * lr, b0, n),
    }
    rr = dict(zip(runs, bt.expected_risk(p, list(runs.values()))))
    _invariance_panel(axes[1, 0], runs, rr, "(lr, B)", chk, "B ~ lr", data, claims,
                      "lr*trH = 0.02; equal samples, 10 checkpoints", "B ~ lr (SGD, constant schedules)")
    lr_m = 0.02 / tr * 0.5
    mruns = {
        "m=0.5, B": (bt.Momentum(0.5), bt.constant(lr_m, b0, n)),
        "m=0.75, 2B": (bt.Momentum(0.75), bt.constant(lr_m, 2 * b0, n // 2)),
        "m=0.875, 4B": (bt.Momentum(0.875), bt.constant(lr_m, 4 * b0, n // 4)),
        "SGD lr/(1-0.5), B": (bt.SGD(), bt.constant(2 * lr_m, b0, n)),
        "m=0.75, B control": (bt.Momentum(0.75), bt.constant(lr_m, b0, n)),
    }
    mrisk = {name: bt.expected_risk(p, sch, opt) for name, (opt, sch) in mruns.items()}
    _invariance_panel(axes[1, 1], {k: v[1] for k, v in mruns.items()}, mrisk, "m=0.5, B", chk, "B ~ 1/(1-m)",
                      data, claims, "lr/(1-m)*trH = 0.02 at m = 0.5; equal samples", "B ~ 1/(1-m) (momentum, same lr)")
    # Where B ~ lr breaks: deviation of (2 lr, 2 B) from (lr, B) as lr grows to the stability limit.
    lim = bt.stability_limit(p, 2 * b0) / 2
    grid = np.geomspace(0.005 / tr, 0.9 * lim, 8 if quick else 16)
    devs = []
    for g in grid:
        a, b = bt.constant(g, b0, n), bt.constant(2 * g, 2 * b0, n // 2)
        r2 = bt.expected_risk(p, [a, b])
        devs.append(max_log_ratio(_at(a, r2[0], chk), _at(b, r2[1], chk)))
    axes[1, 2].plot(grid * tr, devs, "o-")
    axes[1, 2].axhline(0.02, color="0.5", ls="--", lw=0.8, label="tolerance 0.02 (equivalence holds below)")
    axes[1, 2].legend(fontsize=7)
    axes[1, 2].set(xscale="log", yscale="log", xlabel="lr * tr H (of the (lr, B) run)",
                   ylabel="max |log risk ratio|, (2lr, 2B) vs (lr, B)", title="B ~ lr holds at small lr only")
    data["B ~ lr vs lr"] = {"lr_trH": grid * tr, "max_log_ratio": devs}
    claims.append(within("B ~ lr breaks near the stability limit (largest deviation)", max(devs), (0.02, np.inf), figure=NAME,
                         predicted="> 0.02", reason="the SDE argument needs lr << 1/lambda_max"))
    save(fig, NAME, out_dir, data, claims, problem=problem_text(dim, 2.0, 1.0, 0.5, B0=b0, samples=f"{total:.3g}", lr="0.05/trH (SGD), 0.005/trH (momentum 0.9), step decay x1/5 at 30/60/80%"))
    return claims
