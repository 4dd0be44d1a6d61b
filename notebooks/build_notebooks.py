"""Write notebooks/equivalence.ipynb and notebooks/fsl_schedules.ipynb (without outputs).

    python notebooks/build_notebooks.py

The notebooks are the source of truth once written; this script only makes them reproducible
(stable cell ids, no outputs). ``tests/test_notebooks.py`` executes them in quick mode.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

SETUP = '''\
import os
QUICK = os.environ.get("BATCHRAMP_QUICK", "1") == "1"

import math
import jax
jax.config.update("jax_enable_x64", True)   # the library never flips this itself
import numpy as np
import matplotlib.pyplot as plt
import batchramp_theory as bt
%matplotlib inline'''


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


# =============================================================================== equivalence
EQUIVALENCE = [
    md(r"""
# Learning-rate decay versus batch ramps: the equivalence story

Cutting the learning rate and growing the batch are two ways of lowering SGD's gradient noise.
This notebook checks, with the **exact expected-risk recursion** (no Monte Carlo noise), when the
two are interchangeable at **equal samples**, and when they are not:

1. SGD: a cut of the learning rate by `alpha` plus a batch increase by `beta` is equivalent to an
   LR cut by `gamma` whenever `alpha * beta = gamma` (Smith et al. 2017; Seesaw Theorem 1).
2. Normalised SGD (and Adam): the line becomes `alpha * sqrt(beta) = gamma` (Seesaw Corollary 1);
   Seesaw is its point `(sqrt(gamma), gamma)`.
3. Negative controls: the SGD rule on NSGD; `alpha < sqrt(beta)` diverging in the reduced model
   (Seesaw Lemma 4).
4. Serial-step savings of the converter for a cosine base (Seesaw Lemma 1, Figure 1 step counts).
5. The breakdown once the batch passes the critical batch `B_noise` (McCandlish et al. 2018).

Theory: `docs/theory.md`, details in `docs/equivalence.md`. `QUICK = True` keeps the sizes small
(CI executes this notebook); set `BATCHRAMP_QUICK=0` for the check suite's full sizes.
"""),
    code(SETUP),
    md(r"""
## 1. SGD: `alpha * beta = gamma` (Theorem 1)

Over `n` samples a run at `(eta, B)` takes `n / B` steps. To first order in `eta * lambda` its
contraction `(1 - eta lambda)^(2 n / B) ~ exp(-2 (eta / B) lambda n)` and its injected noise
`(eta / B)^2 n` depend on `(eta, B)` only through the noise scale `eta / B` (Smith et al. 2017).

**Theorem 1** (Seesaw, arXiv 2510.14717, section 5): for `eta <= 0.01 / tr H` the phase-indexed
schedules `(eta alpha_1^-k, B beta_1^k)` and `(eta alpha_2^-k, B beta_2^k)` with
`alpha_1 beta_1 = alpha_2 beta_2`, processing the same samples in every phase `k`, have the same
risk at every phase end up to constant factors (in practice: to `O(eta tr H) = 1%`).

`bt.phase_schedule(lr, B0, alpha, beta, phase_samples)` builds these schedules; both start from a
common warm start (phase 0 lasts until the risk is of order `sigma^2`, Assumption 1).
"""),
    code(r"""
p = bt.power_law_problem(dim=128 if QUICK else 1024, capacity=2.0, source=1.0, noise=0.5)
lr, b0 = 0.01 / p.trace, 64                     # Theorem 1's regime: lr <= 0.01 / tr H
phases, steps = (6, 200) if QUICK else (8, 1000)
warm = max(steps, bt.warm_start_steps(p, lr, b0, level=1.0))    # E <= sigma^2 before the first cut
phase_samples = [warm * b0] + [steps * b0 * 2**k for k in range(1, phases)]

sgd_rules = {
    "LR decay (2, 1)": (2.0, 1.0),
    "batch ramp (1, 2)": (1.0, 2.0),
    "split (sqrt2, sqrt2)": (math.sqrt(2), math.sqrt(2)),
    "control: (1, 4), product 4": (1.0, 4.0),
}
sgd_ph = [bt.phase_schedule(lr, b0, a, b, phase_samples) for a, b in sgd_rules.values()]
sgd_risk = bt.expected_risk(p, [x.schedule for x in sgd_ph])      # one vmapped call
sgd_ends = np.stack([r[x.phase_end_steps] for r, x in zip(sgd_risk, sgd_ph)])

def max_log_ratio(a, b):
    # max over phase ends of |log(R'/R)|: 0.01 = 1% (inf if either run diverged)
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(np.log(b / a)))) if np.all(np.isfinite(a * b)) else math.inf

def plot_rules(axes, rules, phases, risks, titles):
    # risk vs samples (left) and vs serial steps (right); negative controls dotted
    for name, x, r in zip(rules, phases, risks):
        n, ls = x.schedule.steps, ":" if "control" in name else "-"
        axes[0].plot(x.schedule.samples_seen, r[: n + 1], ls, label=name)
        axes[1].plot(np.arange(n + 1), r[: n + 1], ls, label=name)
    axes[0].set(xscale="log", yscale="log", xlabel="samples", ylabel="expected excess risk", title=titles[0])
    axes[1].set(xscale="log", yscale="log", xlabel="serial steps", title=titles[1])
    axes[0].legend(fontsize=7)

for name, x, e in zip(sgd_rules, sgd_ph, sgd_ends):
    print(f"{name:28s} {x.schedule.steps:6d} steps   max |log ratio| vs decay: {max_log_ratio(sgd_ends[0], e):.2e}")
"""),
    code(r"""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
plot_rules(axes, sgd_rules, sgd_ph, sgd_risk, ("SGD, vs samples", "SGD, vs steps"))
for s in sgd_ph[0].phase_end_samples[:-1]:
    axes[0].axvline(s, color="0.85", lw=0.6, zorder=0)
"""),
    code(r"""
dev_ramp = max_log_ratio(sgd_ends[0], sgd_ends[1])
dev_split = max_log_ratio(sgd_ends[0], sgd_ends[2])
dev_control = max_log_ratio(sgd_ends[0], sgd_ends[3])
# 1% band: Theorem 1's second-order terms are O(lr tr H) = 1% (docs/equivalence.md, section 4)
assert dev_ramp < 0.01 and dev_split < 0.01, (dev_ramp, dev_split)
assert dev_control > 0.1, dev_control      # alpha*beta = 4 != 2: a different schedule
"""),
    md(r"""
The ramp reaches the same risk as LR decay at every phase end with far fewer serial steps; the
`(1, 4)` ramp (product 4, not 2) is a different schedule and misses by a large factor.

## 2. Normalised SGD: `alpha * sqrt(beta) = gamma` (Corollary 1)

Normalised SGD divides the step by `sqrt(E|g|^2)` (Seesaw eq. 4; `bt.NormalizedSGD("expected")`
uses the exact `E|g|^2` from the current second moments). When the gradient noise dominates
(Assumption 2, `E|g|^2 ~ sigma^2 tr H / B`) it is SGD with the effective learning rate

    eta_eff = eta * sqrt(B) / (sigma * sqrt(tr H)),

so a cut `(alpha, beta)` is the SGD cut `(alpha / sqrt(beta), beta)`, and Theorem 1's condition
becomes `alpha_1 sqrt(beta_1) = alpha_2 sqrt(beta_2)` (**Corollary 1**). **Seesaw** (Algorithm 1)
is `(sqrt(gamma), gamma)`: the most aggressive batch growth that keeps `alpha >= sqrt(beta)`
(Lemma 4). We use `sigma = 8` (noise-dominated) and an effective learning rate `0.01 / tr H`.
"""),
    code(r"""
pn = bt.power_law_problem(dim=128 if QUICK else 1024, capacity=2.0, source=1.0, noise=8.0)
nsgd = bt.NormalizedSGD("expected")
lr_n = 0.01 * float(pn.noise) / math.sqrt(pn.trace * b0)   # effective SGD lr 0.01 / tr H at B0
steps_n = 500 if QUICK else 1000
phase_samples_n = [steps_n * b0 * 2**k for k in range(phases)]
nsgd_rules = {
    "LR decay (2, 1)": (2.0, 1.0),
    "Seesaw (sqrt2, 2)": (math.sqrt(2), 2.0),
    "family (2^3/4, 2^1/2)": (2**0.75, 2**0.5),
    "control: SGD rule (1, 2)": (1.0, 2.0),
    "control: (1, 4), alpha < sqrt(beta)": (1.0, 4.0),
}
nsgd_ph = [bt.phase_schedule(lr_n, b0, a, b, phase_samples_n) for a, b in nsgd_rules.values()]
nsgd_risk = bt.expected_risk(pn, [x.schedule for x in nsgd_ph], nsgd)
nsgd_ends = np.stack([r[x.phase_end_steps] for r, x in zip(nsgd_risk, nsgd_ph)])
for name, x, e in zip(nsgd_rules, nsgd_ph, nsgd_ends):
    print(f"{name:36s} {x.schedule.steps:6d} steps   max |log ratio| vs decay: {max_log_ratio(nsgd_ends[0], e):.3g}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
plot_rules(axes, nsgd_rules, nsgd_ph, nsgd_risk, ("NSGD (expected normaliser), vs samples", "NSGD, vs steps"))
"""),
    code(r"""
dev_seesaw = max_log_ratio(nsgd_ends[0], nsgd_ends[1])
dev_family = max_log_ratio(nsgd_ends[0], nsgd_ends[2])
dev_sgd_rule = max_log_ratio(nsgd_ends[0], nsgd_ends[3])
# 2% band: exact in the reduced model; the signal part of E|g|^2 (~5% here) perturbs it
assert dev_seesaw < 0.02 and dev_family < 0.02, (dev_seesaw, dev_family)
assert dev_sgd_rule > 0.2, dev_sgd_rule    # negative control: (1, 2) is on the SGD line, not the NSGD one
"""),
    md(r"""
## 3. Negative controls

* **The SGD rule on NSGD** (above): `(1, 2)` keeps `alpha * beta = 2` but has
  `alpha * sqrt(beta) = 1.41`, so its effective learning rate *grows* by `sqrt(2)` per phase instead
  of halving: it is far off.
* **`alpha < sqrt(beta)` (Lemma 4).** Along the NSGD line the effective SGD cut is
  `alpha / sqrt(beta)`; below `alpha = sqrt(beta)` it is smaller than 1, i.e. the effective learning
  rate grows by `sqrt(beta) / alpha` at every cut. In the **reduced model** (normaliser
  `sigma sqrt(tr H / B)`, `bt.NormalizedSGD("variance")`, Seesaw eq. 7) the run is plain SGD with
  that growing rate, so it tracks LR decay until the rate passes the stability limit
  (`bt.stability_limit`) and then diverges. The exact normaliser grows with the risk and only lets
  it drift (the `(1, 4)` row above; `docs/equivalence.md`, "P8: what divergence means").
"""),
    code(r"""
eff = 0.3                                           # effective lr 0.3 / tr H: reaches the limit within a few phases
lr_v = eff * float(pn.noise) / math.sqrt(pn.trace * b0)
ctrl = [bt.phase_schedule(lr_v, b0, a, b, phase_samples_n) for a, b in [(2.0, 1.0), (1.0, 4.0)]]
ends_v = bt.phase_end_risks(pn, ctrl, bt.NormalizedSGD("variance"))   # inf from the divergence on
eff0 = lr_v * math.sqrt(b0) / (float(pn.noise) * math.sqrt(pn.trace))  # effective SGD lr in phase 0
# Lemma 4: phase k of (1, 4) is SGD at (eff0 2^k, B0 4^k); predicted divergence: the first phase past the limit
predicted = next(k for k in range(phases) if eff0 * 2**k > bt.stability_limit(pn, b0 * 4**k))
observed = next(k for k in range(phases) if not np.isfinite(ends_v[1][k]))
print("phase-end risks, decay (2,1):", np.round(ends_v[0], 3))
print("phase-end risks, (1,4)      :", np.round(ends_v[1], 3))
print(f"diverged in phase {observed}; predicted (effective lr > stability limit): phase {predicted}")
assert observed == predicted
assert np.all(np.isfinite(ends_v[0]))
"""),
    md(r"""
## 4. Serial-step savings: the converter on a cosine base

`bt.ramp_schedule(base, B0, rule)` turns a base learning-rate schedule (a function of samples or
tokens) into a ramp: at each sample where the base first falls to `lr0 gamma^-k` it cuts the
learning rate by `alpha` and multiplies the batch by `beta` (the official Seesaw repository's
logic; `docs/equivalence.md` section 2.2). A ramp with batch `B0 r(s)^-q`, `q = ln beta / ln gamma`,
takes `mean_s r(s)^q` of the base's serial steps; for Seesaw (`q = 1`) the continuous-limit
reduction is `1 - mean r`:

* quarter cosine to 0 (**Lemma 1**): `1 - 2/pi = 36.3%`; half cosine to 0: 50%;
* the OLMo schedule of the Seesaw runs (10% warmup, half cosine to 0.1): 40.5%, and 38.45% once
  discretised with `gamma = 1.1`.

The converter reproduces the serial step counts the Seesaw repository released for its Figure 1
(150M model, 3.3e9 tokens, 1024-token sequences, `B0 = 256`: 12589 cosine steps, 7756 Seesaw
steps).
"""),
    code(r"""
print(f"quarter cosine: {bt.quarter_cosine_lr(1.0, 1e9).continuous_reduction():.4f}   (1 - 2/pi = {1 - 2 / math.pi:.4f})")
print(f"half cosine:    {bt.half_cosine_lr(1.0, 1e9).continuous_reduction():.4f}")
base = bt.olmo_cosine_lr(3e-3, 3.3e9)                      # axis: tokens
plan = bt.ramp_schedule(base, 256, bt.seesaw_rule(1.1), tokens_per_sample=1024)
acc = plan.accounting
print(f"OLMo base: {acc.base_steps} steps, Seesaw: {acc.ramp_steps} steps, reduction {acc.reduction:.4f} "
      f"(continuous {acc.continuous_reduction:.4f}, stepwise {acc.stepwise_reduction:.4f})")
assert abs(bt.quarter_cosine_lr(1.0, 1e9).continuous_reduction() - (1 - 2 / math.pi)) < 1e-9
assert (acc.base_steps, acc.ramp_steps) == (12589, 7756)    # Seesaw repo, figure_1_step_reductions.csv

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
tokens = plan.schedule.samples_seen[:-1] * 1024
axes[0].plot(plan.base.samples_seen[:-1] * 1024, plan.base.lr, label="base: cosine at B0=256")
axes[0].plot(tokens, plan.schedule.lr, label="Seesaw: lr / sqrt(1.1) per cut")
axes[1].plot(tokens, plan.schedule.batch, "C1", label="Seesaw batch (x1.1 per cut)")
axes[0].set(xlabel="tokens", ylabel="learning rate", title="learning rate")
axes[1].set(xlabel="tokens", ylabel="batch (sequences)", yscale="log", title="batch")
axes[0].legend(fontsize=8); axes[1].legend(fontsize=8);
"""),
    md(r"""
The same converter in the simulator: a cosine base (10% warmup, half cosine to 0.1, as the Seesaw
runs) with halving cuts, run by NSGD in the noise-dominated setting of section 2, against its
Seesaw ramp. At equal samples the risks agree; the ramp needs fewer serial steps
(`1 - mean_s 2^-k(s)`, the stepwise reduction).
"""),
    code(r"""
total = (20000 if QUICK else 100000) * b0
cos_base = bt.olmo_cosine_lr(lr_n, total)
plans = {"LR decay (2, 1)": bt.ramp_schedule(cos_base, b0, bt.lr_decay_rule(2.0)),
         "Seesaw (sqrt2, 2)": bt.ramp_schedule(cos_base, b0, bt.seesaw_rule(2.0))}
risk_c = bt.expected_risk(pn, [pl.schedule for pl in plans.values()], nsgd)
checkpoints = np.concatenate([plans["LR decay (2, 1)"].milestones, [total]])

def at_samples(plan, risk, samples):
    # risk after the first step at which `samples` have been processed
    i = np.searchsorted(plan.schedule.samples_seen, samples)
    return np.asarray(risk)[np.minimum(i, plan.schedule.steps)]

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for (name, pl), r in zip(plans.items(), risk_c):
    n = pl.schedule.steps
    axes[0].plot(pl.schedule.samples_seen, r[: n + 1], label=f"{name}: {n} steps")
    axes[1].plot(np.arange(n + 1), r[: n + 1], label=name)
axes[0].set(xscale="log", yscale="log", xlabel="samples", ylabel="expected excess risk", title="cosine base with halving cuts (NSGD)")
axes[1].set(yscale="log", xlabel="serial steps", title="vs steps")
axes[0].legend(fontsize=8)
ends_c = [at_samples(pl, r, checkpoints) for pl, r in zip(plans.values(), risk_c)]
saving = 1 - plans["Seesaw (sqrt2, 2)"].accounting.ramp_steps / plans["LR decay (2, 1)"].accounting.ramp_steps
print(f"max |log ratio| at the cuts and the end: {max_log_ratio(*ends_c):.4f}; serial steps saved: {saving:.3f} "
      f"(stepwise prediction {cos_base.stepwise_reduction(2.0, 2.0):.3f})")
assert max_log_ratio(*ends_c) < 0.02
assert abs(saving - cos_base.stepwise_reduction(2.0, 2.0)) < 0.01   # flooring and the last step shift it slightly
"""),
    md(r"""
## 5. The breakdown past the critical batch

Corollary 1 needs the noise to dominate `E|g|^2`. The gradient-noise scale (McCandlish et al.
2018, arXiv 1812.06162; `docs/critical_batch.md` section 1), in expectation over the iterate,

    B_noise = tr(H Sigma) / (G^T H G) = 1 + (r^T H r + sigma^2) tr H^2 / (r^T H^3 r),

marks where the signal part takes over. Past it, NSGD is SGD with a batch-independent step,
Seesaw's cut is no longer on the effective SGD line, and the Seesaw/decay gap opens (the Seesaw
paper's Figure 3 trend). SGD's Theorem 1 has no batch condition: its gap stays closed.
Setting (as the check `seesaw.critical_batch`): `sigma = 1`, effective learning rate `0.2 / tr H`,
`lr ~ sqrt(B0)`, 4 phases, the same steps per phase at every `B0`; `B_noise` at the first cut.
"""),
    code(r"""
pc = bt.power_law_problem(dim=128 if QUICK else 512, capacity=2.0, source=1.0, noise=1.0)
batches = [2**i for i in range(0, 12 if QUICK else 14)]
k_ph, steps_c, eff_c = 4, (100 if QUICK else 400), 0.2
gap_nsgd, gap_sgd, b_noise = [], [], []
for bb in batches:
    ss = [steps_c * bb * 2.0**j for j in range(k_ph)]
    lr_b = eff_c * float(pc.noise) / math.sqrt(pc.trace * bb)          # lr ~ sqrt(B0)
    ph = [bt.phase_schedule(lr_b, bb, a, b, ss) for a, b in [(2.0, 1.0), (math.sqrt(2), 2.0)]]
    gap_nsgd.append(max_log_ratio(*bt.phase_end_risks(pc, ph, nsgd)))
    ph_sgd = [bt.phase_schedule(eff_c / pc.trace, bb, a, b, ss) for a, b in [(2.0, 1.0), (1.0, 2.0)]]
    gap_sgd.append(max_log_ratio(*bt.phase_end_risks(pc, ph_sgd, bt.SGD())))
    m = bt.second_moments(pc, bt.constant(lr_b, bb, int(ph[0].phase_end_steps[0])), nsgd)[-1]
    b_noise.append(float(bt.noise_stats(pc, m).b_noise))       # at the first cut of the decay run
batches, gap_nsgd, gap_sgd, b_noise = map(np.asarray, (batches, gap_nsgd, gap_sgd, b_noise))

fig, ax = plt.subplots(figsize=(5.5, 3.8))
ax.plot(batches / b_noise, gap_nsgd, "o-", label="NSGD: Seesaw (sqrt2, 2) vs (2, 1)")
ax.plot(batches / b_noise, gap_sgd, "^:", label="SGD: (1, 2) vs (2, 1) (control)")
ax.axhline(0.05, color="0.5", ls="--", lw=0.8, label="5% ('opens')")
ax.axvline(1.0, color="C3", lw=0.8)
ax.set(xscale="log", yscale="log", xlabel="B0 / B_noise (at the first cut)", ylabel="max |log risk ratio|", title="gap vs initial batch")
ax.legend(fontsize=8)
opens = int(np.argmax(gap_nsgd > 0.05))
print(f"gap opens at B0 = {batches[opens]} (B_noise = {b_noise[opens]:.0f}, ratio {batches[opens] / b_noise[opens]:.2f}); "
      f"gap at B0=1: {gap_nsgd[0]:.3g}, at B0={batches[-1]}: {gap_nsgd[-1]:.3g}; SGD max gap {gap_sgd.max():.3g}")
"""),
    code(r"""
assert gap_nsgd[0] < 0.05 and gap_nsgd[-1] > 0.05        # tracks below, opens above
assert 1 / 8 <= batches[opens] / b_noise[opens] <= 8     # only the scale B0 ~ B_noise is predicted
assert gap_sgd.max() < 0.05                              # negative control: SGD never opens
"""),
    md(r"""
**Summary.** At equal samples, LR decay and a batch ramp are interchangeable for SGD on the line
`alpha beta = gamma` and for normalised SGD on `alpha sqrt(beta) = gamma`, as long as the batch stays
below the noise scale `B_noise`; the ramp then saves serial steps (36-50% for cosine bases). Using
the wrong line, growing the batch faster than `alpha = sqrt(beta)` allows, or passing `B_noise`
breaks the equivalence. `batchramp check --select sgd nsgd smith seesaw` runs these comparisons
(with more settings) as CI checks, and `batchramp seesaw` prints a ramp for a real training run.
"""),
]


# =============================================================================== FSL
FSL = [
    md(r"""
# Functional scaling laws and batch-size schedules

The functional scaling law (FSL; arXiv 2509.19189) predicts the loss of SGD on power-law linear
regression for **any** learning-rate and batch schedule, from two functions of the **intrinsic
time** `T_k = sum_{i<k} eta_i`. A follow-up (arXiv 2602.14208) uses it to design batch-size
schedules under a data budget. This notebook checks, against the exact expected risk:

1. the FSL prediction, calibrated on one schedule, for cosine, WSD and cyclic learning rates;
2. the optimal batch schedule: easy tasks grow the batch from the start, hard tasks stay small
   and grow late;
3. fast catch-up after a batch switch;
4. late versus early switches at equal data.

Theory: `docs/theory.md`, details in `docs/fsl.md`. `QUICK = True` keeps the sizes small.
"""),
    code(SETUP + "\nfrom batchramp_theory import fsl"),
    md(r"""
## 1. The FSL against the exact risk: cosine, WSD, cyclic

Task: `lambda_j = j^-beta`, `lambda_j theta_j^2 = j^-(s beta + 1)`. With `gamma(t) = eta / B`
(per-step noise weight `eta_i^2 / B_i`), **Theorem 4.2** of the FSL paper (hard regime;
physical-time form B.1; `docs/fsl.md`, "The functional scaling law (Theorem 4.2)"):

    E[R(T)] - sigma^2/2  ~  c1 e(T) + int_0^T K(T - z) (c2 e(z) + c3 sigma^2) gamma(z) dz,
    e(t) = (1 + t)^-s,   K(t) = (1 + t)^-(2 - 1/beta).

The constants `c` and the time scales are unknown (`~` is up to constants): they are fitted once
on an 8-1-1 step-decay run (`fsl.calibrate_power_law`) and then **frozen** for the other
schedules. The mode-sum FSL (**Theorem 4.3**, `fsl.mode_sum_fsl`) uses the actual spectrum and has
no fitted constant. Setting: the FSL paper's Figure 1a (`s = 0.5`, `beta = 4`), `eta = 0.1`, `B = 4`.
"""),
    code(r"""
s, beta, sigma = 0.5, 4.0, 1.0
steps, lr, batch = (2000 if QUICK else 10000), 0.1, 4
p = bt.power_law_problem(128, beta, s, noise=sigma)
calib = bt.step_decay(lr, batch, steps, [int(0.8 * steps), int(0.9 * steps)], factor=math.sqrt(10))
scheds = {"cosine": bt.cosine(lr, batch, steps, final_lr=0.1 * lr),
          "WSD": fsl.wsd(lr, batch, steps, decay_fraction=0.2),
          "cyclic": fsl.cyclic(lr, batch, steps, period=steps // 4, min_lr=0.1 * lr)}
window = (10.0, np.inf)                                   # fit and compare at intrinsic time T >= 10
fit = fsl.calibrate_power_law(calib, bt.expected_risk(p, calib), source=s, capacity=beta, noise=sigma, window=window)
exact = bt.expected_risk(p, list(scheds.values()))
pred = fit.predict(list(scheds.values()))                 # constants frozen from the calibration
modes = fsl.mode_sum_fsl(p, list(scheds.values())).risk()
print("fitted constants", np.round(fit.constants, 3), "time scales", fit.time_scales)

fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
errors = {}
for i, (ax, (name, sc)) in enumerate(zip(axes, scheds.items())):
    t = sc.intrinsic_time
    ax.plot(t[1:], exact[i, 1:], "k", lw=1.5, label="exact expected risk")
    ax.plot(t[1:], pred[i, 1:], "C3--", label="power-law FSL (fit on 8-1-1)")
    ax.plot(t[1:], modes[i, 1:], "C2:", label="mode-sum FSL (no fit)")
    ax.set(xscale="log", yscale="log", xlabel="intrinsic time T = sum lr", ylabel="excess risk", title=name)
    errors[name] = (fsl.relative_error(pred[i], exact[i], t, window), fsl.relative_error(modes[i], exact[i], t))
    print(f"{name:7s} max rel. error: power-law FSL {errors[name][0]:.4f}, mode-sum FSL {errors[name][1]:.4f}")
axes[0].legend(fontsize=7);
"""),
    code(r"""
# 5%: the checks' band for hard tasks (s = 0.5 < 1 - 1/beta = 0.75 here)
assert all(e_pl <= 0.05 and e_ms <= 0.05 for e_pl, e_ms in errors.values()), errors
# Negative controls: calibrate and transfer the same way with a wrong ingredient.
#  - noise weight lr/B instead of lr^2/B (a common bug: docs/fsl.md, "Noise weight per step"): a calibration absorbs a
#    constant factor, so it shows only where lr moves fast in intrinsic time (the cyclic troughs);
#  - the kernel's tail exponent 1 - 1/beta instead of 2 - 1/beta: wrong everywhere.
calib_risk = bt.expected_risk(p, calib)
controls = {"noise weight lr/B": {"noise_weight": "lr/B"}, "kernel exponent 1-1/beta": {"kernel_exponent": 1 - 1 / beta}}
bad_errors = {}
for label, kw in controls.items():
    bad = fsl.calibrate_power_law(calib, calib_risk, source=s, capacity=beta, noise=sigma, window=window, **kw)
    bad_pred = bad.predict(list(scheds.values()), **kw)
    bad_errors[label] = [fsl.relative_error(bad_pred[i], exact[i], sc.intrinsic_time, window) for i, sc in enumerate(scheds.values())]
    print(f"{label:25s} max rel. error (cosine, WSD, cyclic): {np.round(bad_errors[label], 3)}")
assert max(bad_errors["noise weight lr/B"]) > 0.05
assert min(bad_errors["kernel exponent 1-1/beta"]) > 0.05
"""),
    md(r"""
The FSL is a first-order truncation of the exact discrete Volterra equation
`E_k = e_k + sum_{i<k} (eta_i^2 / B_i) K_{k,i} (E_i + sigma^2/2)` that `bt.expected_risk` solves:
its error grows with the feedback `rho ~ (eta / B) tr H / 2`, and `fsl.volterra_series(problem,
schedule, order)` sums the higher orders (`docs/fsl.md` section 2.6).

## 2. Optimal batch schedules: easy versus hard

With a constant learning rate `eta` and a data budget `int b(t) dt = eta D`, the FSL loss
`c1 (1 + T)^-s + c3 eta sigma^2 int_0^T K(T - t) / b(t) dt` is minimised by (Cauchy-Schwarz; BSS
paper "Theorem 3.1"; `docs/fsl.md`, "Optimal batch schedule")

    b*(t) = clip(c (T - t + 1)^(1/(2 beta) - 1), b_min, b_max),

with `c` fixed by the budget and the horizon `T*` optimised. **Easy** tasks (`s >= 1 - 1/beta`) keep
`b*` above `b_min` for the whole run and reach `L* ~ D^(-s beta / (1 + s beta))`; **hard** tasks sit at
`b_min` and grow only over a vanishing final fraction, with `L* ~ D^-s`.
"""),
    code(r"""
budgets = 10.0 ** np.arange(4, 17)                     # samples; closed forms, any budget is cheap
shown = [1e4, 1e6, 1e8, 1e10, 1e12]
tasks = {"easy (s=0.8, beta=2)": (0.8, 2.0), "hard (s=0.3, beta=2)": (0.3, 2.0)}
theory = {"easy (s=0.8, beta=2)": -0.8 * 2 / (1 + 0.8 * 2), "hard (s=0.3, beta=2)": -0.3}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
growth, slope = {}, {}
for ax, (name, (s_t, b_t)) in zip(axes, tasks.items()):
    opts = {d: fsl.optimal_batch_schedule(fsl.batch_problem(source=s_t, capacity=b_t, budget=d)) for d in budgets}
    u = np.linspace(0, 1, 300)
    for d in shown:
        o = opts[d]
        ax.plot(u, o.batch(u * o.horizon), label=f"D={d:.0e}: grows over {100 * o.growth_fraction:.3g}% of the run")
    ax.set(yscale="log", xlabel="fraction of training t / T*", ylabel="b*(t)", title=f"optimal b*(t), {name}")
    assert fsl.regime(s_t, b_t) == name.split()[0]      # easy iff s >= 1 - 1/beta
    ax.legend(fontsize=7)
    growth[name] = np.array([opts[d].growth_fraction for d in shown])
    loss = np.array([opts[d].loss for d in budgets])
    axes[2].loglog(budgets, loss, "o-", ms=3, label=f"{name}, theory slope {theory[name]:.3f}")
    big = budgets >= 1e10                                  # exponents are asymptotic: fit the last six decades
    slope[name] = np.polyfit(np.log(budgets[big]), np.log(loss[big]), 1)[0]
axes[2].set(xlabel="data budget D (samples)", ylabel="optimal FSL loss", title="loss vs budget")
axes[2].legend(fontsize=8)
print("growth fractions at D = 1e4..1e12:", {k: np.round(v, 4).tolist() for k, v in growth.items()})
print("loss exponents over D in [1e10, 1e16]:", {k: round(float(v), 4) for k, v in slope.items()},
      "theory:", {k: round(v, 4) for k, v in theory.items()})
"""),
    code(r"""
assert np.all(growth["easy (s=0.8, beta=2)"] >= 0.999)                    # grows throughout
g_hard = growth["hard (s=0.3, beta=2)"]
assert np.all(np.diff(g_hard) < 0) and g_hard[-1] <= 0.1                  # growth fraction vanishes
# +-0.02: asymptotic exponents, approached from one side; the drift over [1e10, 1e16] is below 0.02 (docs/fsl.md 3.1)
assert all(abs(slope[k] - theory[k]) < 0.02 for k in tasks), slope
"""),
    md(r"""
The closed form uses the FSL's unit constants. Against the exact recursion,
`fsl.numerical_optimal_batch` finds the optimum by gradient descent through `bt.make_risk_fn`
(differentiable in the batch); the FSL schedule, turned into integer batches by `to_schedule()`,
is compared here with the best **constant** batch at the same budget.
"""),
    code(r"""
D, lr_b = (2000, 0.5) if QUICK else (8000, 0.5)
for name, (s_t, b_t) in tasks.items():
    pt = bt.power_law_problem(100 if QUICK else 400, b_t, s_t, noise=1.0)
    sched = fsl.optimal_batch_schedule(fsl.batch_problem(source=s_t, capacity=b_t, budget=D, lr=lr_b)).to_schedule()
    consts = [bt.constant(lr_b, b, D // b) for b in (1, 2, 4, 8, 16, 32, 64, 128)]
    r = bt.expected_risk(pt, [sched] + consts)
    finals = [float(r[i, sc.steps]) for i, sc in enumerate([sched] + consts)]
    best = int(np.argmin(finals[1:]))
    print(f"{name}: FSL schedule ({sched.steps} steps, batch {sched.batch[0]}..{sched.batch[-1]}) exact risk {finals[0]:.4g}; "
          f"best constant batch {2**best}: {finals[1 + best]:.4g}")
    assert sched.samples_seen[-1] == D
    assert finals[0] < finals[1 + best]          # the growing schedule beats every constant batch at equal data
"""),
    md(r"""
## 3. Fast catch-up after a batch switch

Switch from batch `B1` to `B2` at step `k0` (intrinsic time `tau0 = eta k0`) at constant `eta` and
compare with the constant-`B2` run at **equal steps**: only the noise injected before the switch
differs, and the FSL says the gap decays as (`docs/fsl.md`, "Fast catch-up")

    gap(Delta) ~ C G(Delta),   G(Delta) = (1 + Delta)^-(1 - 1/beta) - (1 + tau0 + Delta)^-(1 - 1/beta),
    C ~ eta sigma^2 (1/B1 - 1/B2) / (1 - 1/beta).

So the switched run merges onto the large-batch curve, with a shape `G`, not a bare power law;
in the exact model most of the excess is gone within one unit of intrinsic time (the real kernel
is front-loaded by the top modes).
"""),
    code(r"""
pcu = bt.power_law_problem(400 if QUICK else 2000, 2.0, 0.3, noise=1.0)
k0, after = (1000, 2000) if QUICK else (4000, 8000)
c = fsl.catchup(pcu, lr=0.3, batch1=1, batch2=8, switch_step=k0, steps_after=after)
full = bt.expected_risk(pcu, [bt.constant(0.3, 1, k0 + after), bt.constant(0.3, 8, k0 + after)])
t_all = 0.3 * np.arange(k0 + after + 1)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].plot(t_all[1:], full[0, 1:], lw=0.8, label="constant B=1")
axes[0].plot(t_all[1:], full[1, 1:], lw=0.8, label="constant B=8")
axes[0].plot(c.tau0 + c.delta, c.switched, "k", label=f"switch 1 -> 8 at T={c.tau0:g}")
axes[0].set(xscale="log", yscale="log", xlabel="intrinsic time T", ylabel="excess risk (exact)", title="catch-up (s=0.3, beta=2)")
axes[0].legend(fontsize=8)
m = c.delta > 0
a = 1 - 1 / 2.0
axes[1].plot(c.delta[m], c.gap[m] / c.shape[m] / np.interp(100, c.delta[m], c.gap[m] / c.shape[m]), label="gap / G(Delta)")
bare = c.gap[m] * (1 + c.delta[m]) ** a
axes[1].plot(c.delta[m], bare / np.interp(100, c.delta[m], bare), label="gap / (1+Delta)^-(1-1/beta)")
axes[1].axvspan(30, 300, color="0.9")
axes[1].set(xscale="log", xlabel="Delta (intrinsic time since the switch)", ylabel="normalised at Delta=100", title="gap shape")
axes[1].legend(fontsize=8)
flat = c.flatness((30.0, 300.0))
gone = 1 - c.remaining(1.0)
print(f"gap/G flat to {flat:.3f} over Delta in [30, 300]; {100 * gone:.0f}% of the switch-time excess gone by Delta = 1 "
      f"(FSL half-life with unit time scale: {fsl.half_life(2.0):.3g})")
assert flat <= 0.05          # the FSL shape G is right (5% band of the fsl.catchup checks)
assert gone >= 0.5           # sudden drop
"""),
    md(r"""
## 4. Late versus early switch at equal data

A two-stage schedule `B1 -> B2` after `P` of the `D` samples. The FSL two-stage loss (`docs/fsl.md`,
"Two-stage switch") puts the optimal switch at `P* = 0` for easy tasks (use the large batch from the
start) and **late** for hard tasks, with `D - P* ~ D^((1 + s) / (2 - 1/beta))`. The exact final risk
against the switch point (one vmapped call over all switch points) shows the same.
"""),
    code(r"""
lr_s, b1, b2 = 0.2, 1, 8
D2, dim2 = (8000, 300) if QUICK else (40000, 2000)
fracs = np.linspace(0.0, 0.975, 40 if QUICK else 80)

def switch(frac):
    n1 = int(round(frac * D2 / b1))
    return fsl.two_stage(lr_s, b1, b2, n1, (D2 - n1 * b1) // b2)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
best, late_over_early = {}, {}
for ax, (name, s_t) in zip(axes, [("hard", 0.3), ("easy", 0.8)]):
    pt = bt.power_law_problem(dim2, 2.0, s_t, noise=1.0)
    runs = [switch(f) for f in fracs]
    r = bt.expected_risk(pt, runs)
    final = np.array([r[i, sc.steps] for i, sc in enumerate(runs)])
    ts = fsl.optimal_two_stage(fsl.batch_problem(source=s_t, capacity=2.0, budget=D2, lr=lr_s), b1, b2)
    best[name] = fracs[np.argmin(final)]
    late_over_early[name] = final[np.argmin(abs(fracs - 0.8))] / final[np.argmin(abs(fracs - 0.2))]
    ax.plot(fracs, final, "o-", ms=3, label="exact final risk")
    ax.axvline(ts.switch_fraction, color="C3", ls="--", label=f"FSL P*/D = {ts.switch_fraction:.2f}")
    ax.set(yscale="log", xlabel="switch point P/D", ylabel="final excess risk", title=f"{name} task (s={s_t}, beta=2), B {b1}->{b2}")
    ax.legend(fontsize=8)
    print(f"{name}: exact optimum P/D = {best[name]:.2f}, FSL {ts.switch_fraction:.2f}; final risk late(80%)/early(20%) = {late_over_early[name]:.3f}")
assert late_over_early["hard"] < 1 < late_over_early["easy"]   # hard: switch late; easy: early
assert best["hard"] >= 0.4 and best["easy"] <= 0.1
"""),
    md(r"""
With the FSL's unit constants the hard task's predicted switch is earlier than the exact optimum
(`c1`, `c3` set the balance between signal and noise, and they are not calibrated here); the
direction (late for hard, at once for easy) is what the theory fixes.

**Summary.** Calibrated once, the FSL predicts the risk of other learning-rate schedules to a few
percent in the hard regime; its optimal batch schedules grow the batch from the start for easy
tasks and only at the end for hard ones, which the exact recursion confirms at small budgets;
after a switch the risk catches up with the large-batch run quickly, with the FSL's shape `G`.
`batchramp check --select fsl` holds all of this (and more settings) in CI; `batchramp sweep`
maps switch points and gains over a grid of difficulty exponents.
"""),
]


def build(cells, path: Path) -> None:
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}})
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem}-{i:02d}"   # stable ids: clean diffs when regenerated
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"wrote {path} ({len(cells)} cells)")


if __name__ == "__main__":
    build(EQUIVALENCE, HERE / "equivalence.ipynb")
    build(FSL, HERE / "fsl_schedules.ipynb")
