"""Figure 7: fast catch-up after a batch switch (exact recursion).

Left: risk against intrinsic time for constant ``B1``, constant ``B2`` and the switch ``B1 -> B2``:
the sudden drop and the final merge onto the large-batch curve at equal steps. Middle: the gap
to the constant-``B2`` run divided by the FSL shape ``G(Delta)`` (flat) and by the bare power
law (not flat). Right: the fraction of the excess left ``Delta`` after the switch for three
capacities, against the FSL's ``(1+Delta)^-(1-1/beta)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory import fsl
from batchramp_theory.fsl.kernels import power_law_tail_exponent
from batchramp_theory.verify.bands import within

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Fast catch-up after a batch switch: sudden drop, final merge, gap shape G(Delta)"
NAME = "catchup"


def make(out_dir: Path, quick: bool) -> list[Claim]:
    lr, b1, b2, s = 0.3, 1, 8, 0.3
    k0, after = (1000, 2000) if quick else (4000, 8000)
    fig, axes = subplots(1, 3, figsize=(14, 4))
    claims, data = [], {}
    p = bt.power_law_problem(400 if quick else 2000, 2.0, s, noise=1.0)
    c = fsl.catchup(p, lr=lr, batch1=b1, batch2=b2, switch_step=k0, steps_after=after)
    t_all = lr * np.arange(k0 + after)
    pre = bt.expected_risk(p, [bt.constant(lr, b1, k0 + after), bt.constant(lr, b2, k0 + after)])
    ax = axes[0]
    ax.plot(t_all[1:], pre[0, 1:k0 + after], "C0", lw=1, label=f"constant B={b1}")
    ax.plot(t_all[1:], pre[1, 1:k0 + after], "C1", lw=1, label=f"constant B={b2}")
    ax.plot(c.tau0 + c.delta, c.switched, "k", lw=1.3, label=f"switch {b1}->{b2} at T={c.tau0:g}")
    ax.axvline(c.tau0, color="gray", ls=":", lw=0.8, label="switch time")
    ax.set(xscale="log", yscale="log", xlabel="intrinsic time T = lr x steps", ylabel="excess risk (exact)",
           title=f"catch-up, s={s:g}, beta=2, lr={lr:g} (equal steps)")
    ax.legend(fontsize=7)
    data["curves"] = {"t": t_all, "small": pre[0], "large": pre[1], "switched_t": c.tau0 + c.delta, "switched": c.switched}

    ax = axes[1]
    window = (30.0, 300.0)
    m = c.delta > 0
    a = power_law_tail_exponent(2.0)
    ratio = c.gap[m] / c.shape[m]
    bare = c.gap[m] / (1 + c.delta[m]) ** -a
    ax.plot(c.delta[m], ratio / np.interp(100.0, c.delta[m], ratio), label="gap / G(Delta)  (FSL shape)")
    ax.plot(c.delta[m], bare / np.interp(100.0, c.delta[m], bare), label="gap / (1+Delta)^-(1-1/beta)  (bare power law)")
    ax.axvspan(*window, color="gray", alpha=0.15, label="window of the flatness check")
    ax.set(xscale="log", xlabel="Delta = intrinsic time since the switch", ylabel="ratio (normalised at Delta=100)",
           title="gap shape: G(Delta) = (1+D)^-a - (1+tau0+D)^-a")
    ax.legend(fontsize=7)
    flat = c.flatness(window)
    claims.append(within("gap/G(Delta) flat over Delta in [30, 300] (max/min - 1)", flat, 0.05, reason=f"tau0={c.tau0:g}, B {b1}->{b2}",
                         figure=NAME, predicted="<= 0.05"))
    mb = (c.delta >= window[0]) & (c.delta <= window[1])
    rb = c.gap[mb] / (1 + c.delta[mb]) ** -a
    fb = float(rb.max() / rb.min() - 1)
    claims.append(within("negative control: gap over the bare power law is not flat", fb, (0.05, np.inf),
                         reason="dropping the -(1+tau0+Delta) term", figure=NAME, predicted="> 0.05"))
    data["shape"] = {"delta": c.delta, "gap": c.gap, "G": c.shape}

    ax = axes[2]
    for i, (beta, src, dim) in enumerate([(1.1, 0.05, 4000), (2.0, 0.3, 400), (3.0, 0.3, 400)]):
        pb = bt.power_law_problem(dim, beta, src, noise=1.0)
        cb = fsl.catchup(pb, lr=lr, batch1=b1, batch2=b2, switch_step=k0, steps_after=400)
        d = cb.delta[1:]
        ax.plot(d, cb.gap[1:] / cb.gap0, color=f"C{i}", label=f"exact, beta={beta:g}")
        ax.plot(d, cb.shape[1:] / cb.shape[0], color=f"C{i}", ls="--", lw=0.8, label=f"FSL G(Delta)/G(0), beta={beta:g}")
        gone = 1 - cb.remaining(1.0)
        claims.append(within(f"beta={beta:g}: fraction of the excess gone within Delta=1", gone,
                             (0.5, 1.0) if beta >= 2 else (-np.inf, 0.5), reason=f"tau0={cb.tau0:g}; FSL half-life {fsl.half_life(beta):.3g}",
                             figure=NAME, predicted=">= 0.5" if beta >= 2 else "< 0.5 (slow forgetting)"))
        data[f"drop_beta{beta:g}"] = {"delta": cb.delta, "remaining": cb.gap / cb.gap0}
    ax.set(xscale="log", yscale="log", xlabel="Delta = intrinsic time since the switch", ylabel="gap / gap at the switch",
           title="sudden drop: fraction of the excess left")
    ax.legend(fontsize=6)
    save(fig, NAME, out_dir, data, claims, problem=problem_text(p.dim, 2.0, s, 1.0, lr=lr, B=f"{b1}->{b2}", switch=f"step {k0}") + "; (c) d=4000/400/400, beta=1.1/2/3, s=0.05/0.3/0.3")
    return claims
