"""Serial-step reduction of batch ramps for quarter, half and OLMo cosine bases, and the Seesaw step counts.

No simulation: pure accounting (docs/equivalence.md, "2.3 Accounting"). (a) The reduction
``1 - mean_s beta^-k(s)`` of the discretised ramp against the cut factor, with the continuous limits
``1 - mean r`` (Lemma 1's ``1 - 2/pi``, 50%, 40.5%; :mod:`batchramp_theory.verify.predictions`). (b) The continuous step ratio ``mean r^q`` along the NSGD family
``alpha sqrt(beta) = gamma`` (``q = ln beta / ln gamma``). (c) The Seesaw Figure 1 runs: our
converter's serial steps against the official repo's released counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory.verify.bands import around, max_relative_error, within
from batchramp_theory.verify.predictions import (
    half_cosine_step_reduction,
    quarter_cosine_step_ratio,
    quarter_cosine_step_reduction,
)

from . import Claim
from ._style import save, subplots

TITLE = "Serial-step reduction of batch ramps (quarter / half / OLMo cosine) and the Seesaw Figure 1 step counts"
NAME = "step_reduction"

# Official repo alexandrumeterez/seesaw, reproducibility/outputs/figure_1_step_reductions.csv:
# (model, tokens, initial batch, cosine steps, seesaw steps).
PAPER_FIGURE1 = [
    ("150M", 3.3e9, 128, 25178, 15524), ("150M", 3.3e9, 256, 12589, 7756), ("150M", 3.3e9, 512, 6295, 3877),
    ("300M", 6.6e9, 128, 50355, 31046), ("300M", 6.6e9, 256, 25178, 15511), ("300M", 6.6e9, 512, 12589, 7752),
    ("600M", 13.2e9, 256, 50355, 31021), ("600M", 13.2e9, 512, 25178, 15502), ("600M", 13.2e9, 1024, 12589, 7751),
]
# Same repo, plotted_endpoints.csv: Table 2 (halving base, B = 256 / 512) and Figure 3 (cosine / Seesaw).
PAPER_TABLE2 = [((2.0, 1.0), 12589, 6295), ((2**0.75, 1.4142), 10245, 5123), ((2**0.5, 2.0), 9049, 4525),
                ((2**0.25, 2.8284), 8398, 4199), ((1.0, 4.0), 8017, 4009)]
PAPER_FIGURE3 = [(1024, 3148, 1939), (2048, 1574, 970), (4096, 787, 486), (8192, 394, 244)]
# Stepwise reduction of the OLMo schedule at cut factor 1.1 in the limit B0 << S (the Seesaw runs'
# setting; docs/equivalence.md, "2.3 Accounting"): below the continuous
# 0.405 because each cut only takes effect once the LR has fallen by a full factor 1.1.
OLMO_REDUCTION_AT_1_1 = 0.3845


def _bases(total):
    return {
        "quarter cosine (Lemma 1)": bt.quarter_cosine_lr(1.0, total),
        "half cosine to 0": bt.half_cosine_lr(1.0, total),
        "OLMo: 10% warmup, half cosine to 0.1": bt.olmo_cosine_lr(1.0, total),
    }


def make(out_dir: Path, quick: bool) -> list[Claim]:
    import warnings

    total = 1e9  # samples: B0 << S, the limit the accounting formulas describe
    bases = _bases(total)
    gammas = np.geomspace(1.02, 4.0, 12 if quick else 40)
    qs = np.linspace(0.0, 1.0, 11 if quick else 41)
    limits = {"quarter cosine (Lemma 1)": quarter_cosine_step_reduction(), "half cosine to 0": half_cosine_step_reduction(),
              "OLMo: 10% warmup, half cosine to 0.1": half_cosine_step_reduction(warmup=0.1, final=0.1)}
    fig, axes = subplots(1, 3, figsize=(14, 4.2), gridspec_kw={"width_ratios": [1, 1, 1.25]})
    data, claims = {"cut_factors": gammas, "q": qs}, []
    for (label, base), color in zip(bases.items(), ["C0", "C1", "C2"]):
        red = np.array([base.stepwise_reduction(g) for g in gammas])
        cont = base.continuous_reduction()
        axes[0].plot(gammas, 100 * red, "o-", ms=3, color=color, label=label)
        axes[0].axhline(100 * cont, color=color, ls="--", lw=0.8)  # labelled by the title
        ratio_q = np.array([base.mean_ratio(q) for q in qs])
        axes[1].plot(qs, ratio_q, color=color, label=label)
        data[label] = {"stepwise_reduction": red, "continuous_reduction": cont, "mean_ratio_q": ratio_q}
        claims.append(around(f"{label}: continuous-limit reduction", cont, limits[label], 1e-9, figure=NAME,
                             predicted=f"{limits[label]:.6g}", reason="1 - mean_s r(s), adaptive quadrature"))
    olmo = bases["OLMo: 10% warmup, half cosine to 0.1"]
    sw = olmo.stepwise_reduction(1.1)
    claims.append(around("OLMo schedule, cut factor 1.1: stepwise reduction", sw, OLMO_REDUCTION_AT_1_1, 5e-5, figure=NAME,
                         predicted=f"{OLMO_REDUCTION_AT_1_1} (docs/equivalence.md, 2.3)", reason="1 - mean_s 1.1^-k(s), B0 << S"))
    quarter = bases["quarter cosine (Lemma 1)"]
    for q in (0.5, 0.75):
        got, want = quarter.mean_ratio(q), quarter_cosine_step_ratio(q)
        claims.append(around(f"quarter cosine: step ratio mean r^q at q={q}", got, want, 5e-4, figure=NAME,
                             predicted=f"{want:.3f} (Gamma((q+1)/2) / (sqrt(pi) Gamma(q/2+1)))",
                             reason="NSGD family alpha sqrt(beta) = gamma with beta = gamma^q"))
    axes[0].plot([1.1], [100 * sw], "k*", ms=10, label=f"Seesaw runs: gamma=1.1, {100 * sw:.2f}%")
    axes[0].set_xscale("log")
    axes[0].set_xticks([1.1, 1.5, 2, 3, 4], ["1.1", "1.5", "2", "3", "4"])  # 1.02 would overlap 1.1 on a log axis
    axes[0].minorticks_off()
    axes[0].set(xlabel="cut factor gamma (base LR cut per milestone)", ylabel="serial-step reduction (%)",
                title="(a) discretised ramp (dashed: continuous limit)")
    axes[0].legend(fontsize=7, loc="lower left")
    axes[1].set(xlabel="q = ln beta / ln gamma (0: LR decay, 1: Seesaw)", ylabel="ramp steps / base steps",
                title="(b) NSGD family, continuous limit")
    axes[1].legend(fontsize=7)

    # (c) The Seesaw paper's runs through our converter (tokens, 1024-token sequences).
    rows, ours = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the B=8192 run overshoots its budget, as in the repo
        for model, tokens, b, cos, ss in PAPER_FIGURE1:
            plan = bt.ramp_schedule(bt.olmo_cosine_lr(1.0, tokens), b, bt.seesaw_rule(1.1), tokens_per_sample=1024)
            acc = plan.accounting
            ours.append((acc.base_steps, acc.ramp_steps, acc.reduction))
            rows.append([model, str(b), f"{cos}", f"{acc.base_steps}", f"{ss}", f"{acc.ramp_steps}",
                         f"{100 * (1 - ss / cos):.2f}", f"{100 * acc.reduction:.2f}"])
        table2 = []
        for b_idx, b in enumerate((256, 512)):
            for (a, be), s256, s512 in PAPER_TABLE2:
                plan = bt.ramp_schedule(bt.olmo_cosine_lr(1.0, 3.3e9), b, bt.ramp_rule(2.0, lr_factor=a, batch_factor=be),
                                        tokens_per_sample=1024)
                table2.append({"alpha": a, "beta": be, "batch": b, "paper": (s256, s512)[b_idx],
                               "ours": plan.accounting.ramp_steps})
        fig3 = []
        for b, cos, ss in PAPER_FIGURE3:
            plan = bt.ramp_schedule(bt.olmo_cosine_lr(1.0, 3.3e9), b, bt.seesaw_rule(1.1), tokens_per_sample=1024)
            fig3.append({"batch": b, "paper_cosine": cos, "paper_seesaw": ss,
                         "ours_cosine": plan.accounting.base_steps, "ours_seesaw": plan.accounting.ramp_steps})
    err = max_relative_error([o[i] for o in ours for i in (0, 1)], [p[i] for p in PAPER_FIGURE1 for i in (3, 4)])
    claims.append(within("Seesaw Figure 1: max relative step-count error (9 runs)", err, 0.005, figure=NAME, predicted="<= 0.005",
                         reason="cosine and Seesaw serial steps vs the repo's figure_1_step_reductions.csv"))
    reds = [o[2] for o in ours]
    band = (0.383, OLMO_REDUCTION_AT_1_1)  # every run's reduction, at most the B0 << S limit
    claims.append(Claim(NAME, "Seesaw Figure 1: step reductions (min)", min(reds), f"in [{band[0]}, {band[1]}]",
                        bool(band[0] <= min(reds) and max(reds) <= band[1]), f"range {min(reds):.4f}..{max(reds):.4f}", bound=band))
    err2 = max_relative_error([t["ours"] for t in table2], [t["paper"] for t in table2])
    claims.append(within("Seesaw Table 2: max relative step-count error (10 runs)", err2, 0.005, figure=NAME, predicted="<= 0.005",
                         reason="halving base, family alpha sqrt(beta) = 2, B = 256 / 512"))
    err3 = max_relative_error([t[f"ours_{k}"] for t in fig3 for k in ("cosine", "seesaw")],
                              [t[f"paper_{k}"] for t in fig3 for k in ("cosine", "seesaw")])
    claims.append(within("Seesaw Figure 3: max relative step-count error (8 runs)", err3, 0.005, figure=NAME, predicted="<= 0.005",
                         reason="B = 1024..8192, cosine and Seesaw"))
    ax = axes[2]
    ax.axis("off")
    cols = ["model", "B0", "cos\npaper", "cos\nours", "Seesaw\npaper", "Seesaw\nours", "red. %\npaper", "red. %\nours"]
    tab = ax.table(cellText=rows, colLabels=cols, loc="center", cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(7)
    tab.scale(1.0, 1.5)
    for (r, _), cell in tab.get_celld().items():
        if r == 0:
            cell.set_height(cell.get_height() * 1.8)
    ax.set_title("(c) Seesaw Fig. 1 serial steps: paper (repo CSV) vs ours")
    data["figure1"] = [dict(zip([c.replace("\n", " ") for c in cols], r)) for r in rows]
    data["table2"] = table2
    data["figure3"] = fig3
    save(fig, NAME, out_dir, data, claims, problem=(
        "step accounting only (no training): base schedules over 1e9 samples, B0 << budget; "
        "(c) OLMo cosine (10% warmup from 0.1 lr0, to 0.1 lr0), 1024-token sequences, Seesaw rule (sqrt(1.1), 1.1)"))
    return claims
