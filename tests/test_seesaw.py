"""The (alpha, beta) transform, its discretisation, accounting, export, phases and the CLI (the seesaw package)."""

import json
import math

import jax
import numpy as np
import pytest
from helpers import reference_ramp

import batchramp_theory as bt
from batchramp_theory.cli import main

SQ2 = math.sqrt(2.0)

# Official Seesaw repo, alexandrumeterez/seesaw @ 332f6fc, file
# reproducibility/outputs/figure_1_step_reductions.csv (cosine_steps, seesaw_steps), and
# reproducibility/outputs/plotted_endpoints.csv (final_tokens of the Seesaw runs).
# Runs: 10% warmup from 0.1 lr0, half cosine to 0.1 lr0, cut factor 1.1, sequence length 1024.
FIGURE1 = [
    # model, tokens, initial batch, cosine steps, seesaw steps, seesaw final tokens
    ("150M", 3.3e9, 128, 25178, 15524, 3300887552),
    ("150M", 3.3e9, 256, 12589, 7756, 3300596736),
    ("150M", 3.3e9, 512, 6295, 3877, 3302964224),
    ("300M", 6.6e9, 128, 50355, 31046, 6600698880),
    ("300M", 6.6e9, 256, 25178, 15511, 6600976384),
    ("300M", 6.6e9, 512, 12589, 7752, 6602585088),
    ("600M", 13.2e9, 256, 50355, 31021, 13201693696),
    ("600M", 13.2e9, 512, 25178, 15502, 13201325056),
    ("600M", 13.2e9, 1024, 12589, 7751, 13207758848),
]


def _plan(tokens, batch, rule, **kw):
    return bt.ramp_schedule(bt.olmo_cosine_lr(3e-3, tokens), batch, rule, tokens_per_sample=1024, **kw)


# ----------------------------------------------------------------------------- rules
def test_rule_lines_and_named_points():
    r = bt.ramp_rule(2.0, batch_factor=2.0, line="nsgd")
    assert r.lr_factor == pytest.approx(SQ2, rel=1e-12) and r.admissible and r.cut == 2.0
    r = bt.ramp_rule(2.0, lr_factor=1.0, line="sgd")
    assert r.batch_factor == pytest.approx(2.0, rel=1e-12) and r.admissible
    assert bt.seesaw_rule(1.1)[:2] == pytest.approx((math.sqrt(1.1), 1.1), rel=1e-12)
    assert bt.lr_decay_rule(2.0)[:2] == (2.0, 1.0)
    assert bt.batch_ramp_rule(2.0, "sgd")[:2] == pytest.approx((1.0, 2.0))
    nsgd_ramp = bt.batch_ramp_rule(2.0, "nsgd")  # (1, 4): alpha < sqrt(beta), Lemma 4
    assert nsgd_ramp.batch_factor == pytest.approx(4.0) and not nsgd_ramp.admissible
    assert bt.seesaw_rule(2.0).q == pytest.approx(1.0) and bt.lr_decay_rule(2.0).q == 0.0
    assert bt.seesaw_rule(2.0).effective_sgd_alpha == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(cut=1.0, batch_factor=2.0), "gamma"),
        (dict(cut=0.5, batch_factor=2.0), "gamma"),
        (dict(cut=2.0, lr_factor=1.5, batch_factor=2.0, line="nsgd"), "off the NSGD line"),
        (dict(cut=2.0, lr_factor=1.0, batch_factor=4.0, line="sgd"), "off the SGD line"),
        (dict(cut=2.0, batch_factor=0.5), "beta"),
        (dict(cut=2.0, lr_factor=3.0), "beta < 1"),
        (dict(cut=2.0), "alpha or beta"),
        (dict(cut=2.0, batch_factor=2.0, line="adam"), "line"),
    ],
)
def test_rule_bad_input(kw, match):
    cut = kw.pop("cut")
    with pytest.raises(ValueError, match=match):
        bt.ramp_rule(cut, **kw)


def test_rule_deprecated_names():
    # The old keywords (gamma, alpha, beta) still work for one release, with a DeprecationWarning,
    # and give the same rule; the old field names are read-only aliases.
    new = bt.ramp_rule(2.0, lr_factor=2**0.75, line="nsgd")
    with pytest.warns(DeprecationWarning) as rec:
        old = bt.ramp_rule(gamma=2.0, alpha=2**0.75, line="nsgd")
    assert old == new
    assert {str(w.message) for w in rec} == {
        "ramp_rule(): argument 'gamma' is deprecated; use 'cut'",
        "ramp_rule(): argument 'alpha' is deprecated; use 'lr_factor'",
    }
    with pytest.warns(DeprecationWarning, match="'beta' is deprecated; use 'batch_factor'"):
        assert bt.ramp_rule(2.0, beta=2.0) == bt.ramp_rule(2.0, batch_factor=2.0)
    with pytest.warns(DeprecationWarning, match="'gamma' is deprecated; use 'cut'"):
        assert bt.seesaw_rule(gamma=1.1) == bt.seesaw_rule(1.1)
    assert (new.alpha, new.beta, new.gamma) == (new.lr_factor, new.batch_factor, new.cut)
    with pytest.raises(AttributeError):
        new.alpha = 1.0
    with pytest.raises(TypeError, match="both"):
        bt.ramp_rule(2.0, alpha=1.0, lr_factor=1.0)
    with pytest.warns(DeprecationWarning) as rec:
        ph = bt.phase_schedule(0.1, 8, alpha=1.0, beta=2.0, phase_samples=[800, 800])
    assert len(rec) == 2 and all("phase_schedule(): argument" in str(w.message) for w in rec)
    np.testing.assert_array_equal(ph.schedule.lr, bt.phase_schedule(0.1, 8, 1.0, 2.0, [800, 800]).schedule.lr)


# ----------------------------------------------------------------------------- the paper's step counts
@pytest.mark.parametrize("model, tokens, batch, cos_steps, ss_steps, ss_tokens", FIGURE1)
def test_figure1_step_counts(model, tokens, batch, cos_steps, ss_steps, ss_tokens):
    for rounding in ("floor", "olmo"):
        plan = _plan(tokens, batch, bt.seesaw_rule(1.1), rounding=rounding)
        assert plan.accounting.base_steps == cos_steps
        assert plan.accounting.ramp_steps == ss_steps  # exact (the issue asks for 0.5%)
        assert 0.383 <= plan.accounting.reduction <= 0.3844  # repo: 38.3-38.4%
    # With the repo's floor/ceil rule the Seesaw runs' final token counts match too.
    assert plan.accounting.ramp_samples == ss_tokens


# Seesaw Table 2 (150M, 3.3e9 tokens, halving base): steps at B = 256 and 512. The repo configs
# give beta to 4 decimals (1.4142, 2.8284), which reproduces the counts exactly; exact
# irrational factors agree within 0.05%.
TABLE2 = [
    ((2.0, 1.0), (2.0, 1.0), 12589, 6295),
    ((2**0.75, 1.4142), (2**0.75, SQ2), 10245, 5123),
    ((SQ2, 2.0), (SQ2, 2.0), 9049, 4525),
    ((2**0.25, 2.8284), (2**0.25, 2**1.5), 8398, 4199),
    ((1.0, 4.0), (1.0, 4.0), 8017, 4009),
]


@pytest.mark.parametrize("repo_ab, exact_ab, s256, s512", TABLE2)
def test_table2_equivalence_family_steps(repo_ab, exact_ab, s256, s512):
    for batch, want in ((256, s256), (512, s512)):
        got = _plan(3.3e9, batch, bt.ramp_rule(2.0, lr_factor=repo_ab[0], batch_factor=repo_ab[1])).accounting.ramp_steps
        assert got == want
        got = _plan(3.3e9, batch, bt.ramp_rule(2.0, lr_factor=exact_ab[0], batch_factor=exact_ab[1])).accounting.ramp_steps
        assert abs(got / want - 1) < 5e-3


@pytest.mark.parametrize("batch, cos_steps, ss_steps", [(1024, 3148, 1939), (2048, 1574, 970), (4096, 787, 486), (8192, 394, 244)])
def test_figure3_step_counts(batch, cos_steps, ss_steps):
    with pytest.warns(RuntimeWarning, match="more samples than the budget") if batch == 8192 else _null():
        plan = _plan(3.3e9, batch, bt.seesaw_rule(1.1))
    assert (plan.accounting.base_steps, plan.accounting.ramp_steps) == (cos_steps, ss_steps)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


# ----------------------------------------------------------------------------- construction details
def test_ramp_follows_the_repo_semantics():
    plan = _plan(3.3e9, 256, bt.seesaw_rule(1.1))
    s = plan.schedule
    seen = s.samples_seen[:-1] * 1024
    # Each milestone is applied at the first step whose tokens-seen reach it, one per step.
    for m, st in zip(plan.milestones, plan.milestone_steps):
        assert seen[st] >= m and (st == 0 or seen[st - 1] < m)
    assert len(set(plan.milestone_steps.tolist())) == plan.milestones.size
    # Batch: floor of 256 * 1.1^k; learning rate lr0 * 1.1^(-k/2) after warmup.
    k = np.arange(1, plan.milestones.size + 1)
    acc = 256.0
    floors = []
    for _ in k:
        acc *= 1.1
        floors.append(math.floor(acc))
    np.testing.assert_array_equal(plan.batch_after, floors)
    np.testing.assert_allclose(plan.lr_after, 3e-3 * 1.1 ** (-k / 2), rtol=1e-12)
    # Warmup follows the base; final lr 1.1^-12 lr0 ~ 0.319 lr0; batch grows ~9.85x.
    np.testing.assert_allclose(s.lr[:5], plan.base_lr(np.arange(5) * 256 * 1024.0), rtol=1e-12)
    assert s.lr[-1] / 3e-3 == pytest.approx(1.1**-12, rel=1e-12)
    assert s.batch[-1] / 256 == pytest.approx(1.1**24, rel=2e-3)


def test_olmo_rounding_rule():
    # 88 * beta = 97.5: floor gives 97 = 3 * 32 + 1, which the repo's rule turns into ceil = 98.
    base = bt.step_lr(1.0, 10_000, [1000], 97.5 / 88)
    rule = bt.ramp_rule(97.5 / 88, lr_factor=1.0, line="sgd")
    assert bt.ramp_schedule(base, 88, rule).batch_after[0] == 97
    assert bt.ramp_schedule(base, 88, rule, rounding="olmo").batch_after[0] == 98


@pytest.mark.parametrize("line", ["sgd", "nsgd"])
def test_batch_cap_falls_back_to_lr_decay_on_the_line(line):
    base = bt.step_lr(1.0, 100_000, [10_000, 20_000, 30_000, 40_000], 2.0)
    rule = bt.ramp_rule(2.0, lr_factor=1.0, line=line) if line == "sgd" else bt.seesaw_rule(2.0)
    plan = bt.ramp_schedule(base, 8, rule, max_batch=40)
    assert plan.schedule.batch.max() <= 40
    p = 1.0 if line == "sgd" else 0.5
    # Every cut keeps the product on the line: lr ratio * batch ratio^p = 2 per milestone.
    lrs = np.concatenate([[1.0], plan.lr_after])
    bs = np.concatenate([[8.0], plan.batch_after])
    np.testing.assert_allclose((lrs[:-1] / lrs[1:]) * (bs[1:] / bs[:-1]) ** p, 2.0, rtol=1e-12)
    assert plan.capped.tolist() == [False, False, True, True]


def test_step_decay_base_exact_for_pure_decay_rule():
    # The (gamma, 1) rule of a step-decay base with the same factor is the base itself.
    base = bt.step_lr(0.5, 4000, [1000, 2500], 2.0)
    plan = bt.ramp_schedule(base, 10, bt.lr_decay_rule(2.0, "sgd"))
    np.testing.assert_allclose(plan.schedule.lr, plan.base.lr, rtol=1e-12)
    np.testing.assert_array_equal(plan.schedule.batch, plan.base.batch)
    assert plan.accounting.reduction == 0.0


@pytest.mark.filterwarnings("ignore:the ramp needs more samples")
def test_accounting_continuous_limit():
    # Tiny cuts and B0 << S: the discrete reduction approaches 1 - mean r = 1 - 2/pi.
    base = bt.quarter_cosine_lr(1.0, 2e5, final_fraction=0.01)
    plan = bt.ramp_schedule(base, 1, bt.seesaw_rule(1.01))
    acc = plan.accounting
    # Step counts from the per-step loop of the repo's semantics (tests/helpers.py), not the converter.
    ref = reference_ramp([int(m) for m in base.milestones(1.01)], 200_000, 1, 1, math.sqrt(1.01), 1.01)
    assert (acc.base_steps, acc.ramp_steps) == (200_000, ref["batch"].size)
    assert acc.reduction == pytest.approx(1.0 - ref["batch"].size / 200_000, rel=1e-12)
    assert acc.continuous_reduction == pytest.approx(base.continuous_reduction(), rel=1e-12)
    assert acc.stepwise_reduction == pytest.approx(acc.continuous_reduction, abs=0.01)


def test_budget_errors_and_warnings():
    base = bt.olmo_cosine_lr(1.0, 1000.0)
    with pytest.raises(ValueError, match="smaller than one batch"):
        bt.ramp_schedule(base, 2000, bt.seesaw_rule(1.1))
    with pytest.raises(ValueError, match="more samples than the budget"):
        bt.ramp_schedule(bt.olmo_cosine_lr(1.0, 3.3e9), 8192, bt.seesaw_rule(1.1), tokens_per_sample=1024, strict=True)
    with pytest.raises(ValueError, match="rounding"):
        bt.ramp_schedule(base, 2, bt.seesaw_rule(1.1), rounding="round")
    with pytest.raises(ValueError, match="max_batch"):
        bt.ramp_schedule(base, 8, bt.seesaw_rule(1.1), max_batch=4)


# ----------------------------------------------------------------------------- export
def test_export_lr_and_batch_functions():
    plan = _plan(3.3e8, 64, bt.seesaw_rule(1.1))
    s = plan.schedule
    steps = np.arange(s.steps)
    lr_fn = jax.jit(plan.lr_schedule())
    np.testing.assert_allclose(np.asarray(jax.vmap(lr_fn)(steps)), s.lr, rtol=1e-12)
    assert float(lr_fn(10 * s.steps)) == pytest.approx(s.lr[-1])
    by_step = plan.batch_at_step()
    np.testing.assert_array_equal(by_step(steps), s.batch)
    by_samples = plan.batch_at_samples()
    tokens_before = s.samples_seen[:-1] * 1024
    np.testing.assert_array_equal(by_samples(tokens_before), s.batch)
    np.testing.assert_array_equal(by_samples(tokens_before[1:] - 1), s.batch[:-1])
    rows = plan.table()
    assert [r["k"] for r in rows] == list(range(1, plan.milestones.size + 1))


# ----------------------------------------------------------------------------- Theorem 1 phases
def test_phase_schedule_equal_samples_and_errors():
    a = bt.phase_schedule(0.1, 8, 2.0, 1.0, [800, 1600, 3200])
    b = bt.phase_schedule(0.1, 8, 1.0, 2.0, [800, 1600, 3200])
    np.testing.assert_array_equal(a.phase_end_samples, b.phase_end_samples)
    # lr x steps per phase agree (Lemma 3's first-order identity).
    np.testing.assert_allclose(a.lrs * np.diff(np.concatenate([[0], a.phase_end_steps])),
                               b.lrs * np.diff(np.concatenate([[0], b.phase_end_steps])), rtol=1e-12)
    with pytest.raises(ValueError, match="more samples than the phase budget"):
        bt.phase_schedule(0.1, 8, 1.0, 4.0, [800, 100, 100])  # phase 2 has batch 128 > 100
    with pytest.raises(ValueError, match="beta"):
        bt.phase_schedule(0.1, 8, 1.0, 0.5, [800])


def test_phase_end_risks_and_warm_start():
    p = bt.power_law_problem(32, 2.0, 1.0, noise=0.3)
    ws = bt.warm_start_steps(p, 0.2, 4, level=1.0)
    r = bt.expected_risk(p, bt.constant(0.2, 4, ws + 1))
    assert r[ws] <= 0.09 < r[ws - 1]
    ph = [bt.phase_schedule(0.05, 4, a, b, [400 * 2**k for k in range(4)]) for a, b in [(2, 1), (1, 2)]]
    risks = bt.phase_end_risks(p, ph)
    full = bt.expected_risk(p, ph[1].schedule)
    np.testing.assert_allclose(risks[1], full[ph[1].phase_end_steps], rtol=1e-12)
    np.testing.assert_allclose(bt.phase_end_risks(p, ph, pad_to=3000), risks, rtol=1e-12)
    with pytest.raises(ValueError, match="noise"):
        bt.warm_start_steps(bt.power_law_problem(8, 2.0, 1.0, noise=0.0), 0.1, 1)


# ----------------------------------------------------------------------------- CLI
def test_cli_json(capsys):
    assert main(["seesaw", "--tokens", "3.3e9", "--batch", "256", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"base_steps", "ramp_steps", "milestones"} <= d.keys()
    assert (d["base_steps"], d["ramp_steps"]) == (12589, 7756)
    assert len(d["milestones"]) == 24 and d["milestones"][0]["batch"] == 281
    assert d["reduction"] == pytest.approx(1 - 7756 / 12589, rel=1e-12)  # published counts, not the code's


def test_cli_table_and_custom_rule(capsys):
    assert main(["seesaw", "--tokens", "3.3e9", "--batch", "512", "--cut-factor", "2", "--lr-factor", "1", "--batch-factor", "4"]) == 0
    out = capsys.readouterr().out
    assert "ramp table" in out and "4,009" in out and "outside the theory" in out
    # --alpha / --beta are the old spellings of --lr-factor / --batch-factor
    assert main(["seesaw", "--tokens", "3.3e9", "--batch", "512", "--cut-factor", "2", "--alpha", "1", "--beta", "4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ramp_steps"] == 4009
    assert (d["rule"]["lr_factor"], d["rule"]["batch_factor"], d["rule"]["cut"]) == (1.0, 4.0, 2.0)
    assert (d["rule"]["alpha"], d["rule"]["beta"], d["rule"]["gamma"]) == (1.0, 4.0, 2.0)  # kept for old readers


@pytest.mark.parametrize(
    "args, match",
    [
        (["--warmup", "1.0"], "warmup"),
        (["--warmup", "-0.5"], "warmup"),
        (["--cut-factor", "1.0"], "gamma"),
        (["--cut-factor", "2", "--alpha", "1.5", "--beta", "2"], "off the NSGD line"),
        (["--tokens", "1000"], "less than one step"),
        (["--final-lr", "2"], "--final-lr"),
    ],
)
def test_cli_bad_input(args, match, capsys):
    base = ["seesaw", "--tokens", "3.3e9", "--batch", "256"]
    assert main(base + args) == 2
    assert match in capsys.readouterr().err
