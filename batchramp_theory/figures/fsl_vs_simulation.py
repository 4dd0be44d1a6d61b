"""Figure 5: the FSL against simulation for cosine, WSD and cyclic LR (FSL paper Fig. 1a setting, s=0.5, beta=4).

Top: risk against steps for the three schedules: Monte Carlo mean +- 2 SE, the exact risk, the
power-law FSL calibrated on an 8-1-1 step-decay run and transferred with frozen constants, and
the mode-sum FSL (no fitted constant). Bottom: the learning rates, and where the FSL breaks:
its error against ``lr/B`` (first-order Volterra truncation, small-gamma assumption) and
against ``T/dim^beta`` (finite-size cutoff).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory import fsl
from batchramp_theory.verify.bands import mean_and_se, within, z_band

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "FSL vs simulation: cosine, WSD and cyclic LR at s=0.5, beta=4 (FSL paper Fig. 1a), and where the FSL breaks"
NAME = "fsl_vs_simulation"


def make(out_dir: Path, quick: bool) -> list[Claim]:
    s, beta, noise = 0.5, 4.0, 1.0
    dim, steps, runs = (128, 2000, 100) if quick else (128, 10000, 1000)
    lr, batch = 0.1, 4
    p = bt.power_law_problem(dim, beta, s, noise=noise)
    cal = bt.step_decay(lr, batch, steps, [int(0.8 * steps), int(0.9 * steps)], factor=np.sqrt(10.0))
    scheds = {
        "cosine": bt.cosine(lr, batch, steps, final_lr=0.1 * lr),
        "WSD": fsl.wsd(lr, batch, steps, decay_fraction=0.2),
        "cyclic": fsl.cyclic(lr, batch, steps, period=steps // 4, min_lr=0.1 * lr),
    }
    names = list(scheds)
    sl = [scheds[n] for n in names]
    window = (10.0, np.inf)
    exact_cal = bt.expected_risk(p, cal)
    fit = fsl.calibrate_power_law(cal, exact_cal, source=s, capacity=beta, noise=noise, window=window)
    pred = fit.predict(sl)
    modes = fsl.mode_sum_fsl(p, sl).risk()
    exact = bt.expected_risk(p, sl)
    rec = np.unique(np.geomspace(1, steps, 80).astype(int))
    mc = bt.simulate(p, sl, num_runs=runs, seed=5, record_steps=rec)

    fig, axes = subplots(2, 3, figsize=(13, 7))
    claims, data = [], {"fit": {"constants": list(fit.constants), "time_scales": list(fit.time_scales), "max_rel_error": fit.max_rel_error}}
    k = np.arange(steps + 1)
    show = np.unique(np.concatenate([np.geomspace(1, steps, 300).astype(int), np.linspace(0, steps, 300).astype(int)]))  # plotted steps
    for i, (ax, n) in enumerate(zip(axes[0], names)):
        mean, se = mean_and_se(mc[i])
        ax.fill_between(rec, mean - 2 * se, mean + 2 * se, color="C0", alpha=0.3, label=f"SGD Monte Carlo, mean ± 2 SE ({runs} runs)")
        ax.plot(show, exact[i, show], "k--", lw=1, label="exact expected risk")
        ax.plot(show, pred[i, show], "C3", lw=1.2, label="power-law FSL (fit on 8-1-1, frozen)")
        ax.plot(show, modes[i, show], "C2:", lw=1.2, label="mode-sum FSL (no fit)")
        ax.set(xscale="log", yscale="log", xlabel="steps", ylabel="excess risk", title=f"{n} LR, s={s:g}, beta={beta:g}, B={batch}")
        t = scheds[n].intrinsic_time
        err = fsl.relative_error(pred[i], exact[i], t, window)
        err_m = fsl.relative_error(modes[i], exact[i], t)
        claims += [
            within(f"{n}: power-law FSL (transferred) max rel. error vs exact, T>=10", err, 0.05, figure=NAME, predicted="<= 0.05",
                   reason="constants and time scales fitted on 8-1-1 only"),
            within(f"{n}: mode-sum FSL max rel. error vs exact", err_m, 0.05, figure=NAME, predicted="<= 0.05",
                   reason="first-order truncation, c=1"),
            z_band(f"{n}: Monte Carlo vs exact, max abs z", mc[i], exact[i, rec], 5.0, figure=NAME, predicted="<= 5",
                   reason=f"{rec.size} recorded steps"),
        ]
        data[n] = {"steps": show, "exact": exact[i, show], "fsl_power_law": pred[i, show], "fsl_modes": modes[i, show], "mc_steps": rec, "mc_mean": mean, "mc_se": se}
    axes[0, 0].legend(fontsize=6.5)

    ax = axes[1, 0]
    for n in names:
        ax.plot(k[:-1], scheds[n].lr, label=n)
    ax.plot(k[:-1], cal.lr, "k:", label="8-1-1 (calibration)")
    ax.set(xlabel="steps", ylabel="learning rate", title="schedules (batch 4 throughout)")
    ax.legend(fontsize=7)

    # Breakdown 1: the first-order truncation against lr/B (feedback rho ~ (lr/B) tr H / 2).
    ax = axes[1, 1]
    pb = bt.power_law_problem(200, 2.0, 0.5, noise=1.0)
    gammas = np.array([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5])
    n_b = 400 if quick else 2000
    gs = [bt.constant(g, 1, n_b) for g in gammas]  # B = 1: lr/B = lr
    ex_g = bt.expected_risk(pb, gs)
    ms_g = fsl.mode_sum_fsl(pb, gs).risk()
    err_g = np.array([fsl.relative_error(ms_g[i], ex_g[i], gs[i].intrinsic_time) for i in range(len(gs))])
    ax.loglog(gammas, err_g, "o-", label="mode-sum FSL vs exact")
    ax.axhline(0.05, color="gray", ls="--", lw=0.8, label="5% tolerance")
    ax.set(xlabel="lr / B (per-sample noise scale)", ylabel="max relative error", title="breakdown: large lr/B\n(s=0.5, beta=2)")
    ax.legend(fontsize=7)
    mono = bool(np.all(np.diff(err_g) > 0))
    # Two conditions (monotone, and out of the band at the end): one result, no single band.
    claims.append(Claim(NAME, "FSL error grows with lr/B (monotone over the sweep)", float(err_g[-1]), "increasing; > 0.05 at lr/B=0.5",
                        bool(mono and err_g[-1] > 0.05), f"errors {np.round(err_g, 4).tolist()}", bound=(0.05, np.inf)))
    data["breakdown_lr_over_b"] = {"lr_over_b": gammas, "error": err_g}

    # Breakdown 2: finite dimension, T / dim^beta.
    ax = axes[1, 2]
    dims = np.array([8, 16, 32, 128, 512, 2048]) if quick else np.array([8, 12, 16, 24, 32, 64, 128, 512, 2048])
    n_d = 1000 if quick else 4000
    cal_d = bt.step_decay(0.1, 4, n_d, [int(0.8 * n_d), int(0.9 * n_d)], factor=np.sqrt(10.0))
    tr_d = bt.cosine(0.1, 4, n_d, final_lr=0.01)
    errs_d = []
    for d in dims:
        pd = bt.power_law_problem(int(d), 2.0, 0.5, noise=1.0)
        ex_d = bt.expected_risk(pd, [cal_d, tr_d])
        f_d = fsl.calibrate_power_law(cal_d, ex_d[0], source=0.5, capacity=2.0, noise=1.0, window=window)
        errs_d.append(fsl.relative_error(f_d.predict(tr_d), ex_d[1], tr_d.intrinsic_time, window))
    errs_d = np.array(errs_d)
    ratio = 0.1 * n_d / dims.astype(float) ** 2.0
    ax.loglog(ratio, errs_d, "o-", label="power-law FSL (cosine, transferred) vs exact")
    ax.axhline(0.05, color="gray", ls="--", lw=0.8, label="5% tolerance")
    ax.axvline(1.0, color="C1", ls=":", lw=0.8, label="T = dim^beta")
    ax.set(xlabel="T_K / dim^beta (intrinsic time / cutoff)", ylabel="max relative error", title="breakdown: T beyond dim^beta\n(s=0.5, beta=2)")
    ax.legend(fontsize=7)
    claims.append(Claim(NAME, "power-law FSL fails past the finite-size cutoff (T_K >= dim^beta)", float(errs_d[0]),
                        "> 0.05 at dim=8; <= 0.05 at dim=2048", bool(errs_d[0] > 0.05 and errs_d[-1] <= 0.05),
                        f"errors {np.round(errs_d, 4).tolist()} at T/dim^beta {np.round(ratio, 4).tolist()}", bound=(0.05, np.inf)))
    data["breakdown_dim"] = {"dim": dims, "t_over_dim_beta": ratio, "error": errs_d}
    save(fig, NAME, out_dir, data, claims, problem=problem_text(dim, beta, s, noise, lr=lr, B=batch, steps=steps) + "; breakdown panels: d=200 and d=8..2048, beta=2, s=0.5, sigma=1")
    return claims
