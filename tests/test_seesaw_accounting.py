"""Every number the converter and ``batchramp seesaw`` report, against independent computations.

The references here never call the converter's accounting: step counts are integer ceiling
divisions, token counts are steps times tokens per step, the ramp is re-run by a plain per-step
loop of the official repo's semantics (docs/equivalence.md, section 2.2: at the start of each
step consume at most one milestone whose samples have been reached, ``>=``; batch = floor of a
float accumulator times ``beta``; lr divided by ``alpha``), and the published step counts come
from the Seesaw repo's CSVs (tests/test_seesaw.py, ``FIGURE1``). Hypothesis varies budgets that
divide by the batch and budgets that do not, batches, tokens per sample and cut factors.
"""

import json
import math
import warnings

import numpy as np
import pytest
from helpers import ceil_div, reference_ramp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import batchramp_theory as bt
from batchramp_theory.cli import main

# Milestones of the OLMo half cosine (10% warmup, to 0.1 lr0) at cut 1.1: the official
# get_decay_tokens closed form (docs/equivalence.md, section 2.2), as in test_lr_schedules.py.
S, W, F, G = 3.3e9, 3.3e8, 0.1, 1 / 1.1
MILESTONES = [W + round((S - W) * math.acos(2 * (G**k - F) / (1 - F) - 1) / math.pi) for k in range(1, 25)]


# ----------------------------------------------------------------------------- the CLI's JSON, every field
def test_cli_json_every_field_at_3p3e9_tokens_batch_256(capsys):
    assert main(["seesaw", "--tokens", "3.3e9", "--batch", "256", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    per_step = 256 * 1024
    base_steps = ceil_div(3_300_000_000, per_step)
    ref = reference_ramp(MILESTONES, 3_300_000_000, 256, 1024, math.sqrt(1.1), 1.1)
    assert base_steps == 12589 and ref["batch"].size == 7756  # the published counts (Seesaw Figure 1)
    assert d["seq_len"] == 1024 and d["initial_batch"] == 256 and d["token_budget"] == 3.3e9
    assert d["lr_units"] == "lr/lr0"
    assert (d["base_steps"], d["ramp_steps"]) == (base_steps, 7756)
    assert d["base_tokens"] == base_steps * per_step == 3_300_130_816  # the number
    assert d["ramp_tokens"] == ref["seen"] == 3_300_596_736  # the repo's plotted_endpoints.csv
    assert d["overshoot_tokens"] == ref["seen"] - 3_300_000_000
    assert d["reduction"] == pytest.approx(1 - 7756 / 12589, rel=1e-12)
    # 1 - (0.1 + 0.9 * 0.55) (docs/equivalence.md, "Lemma 1 and the general formula")
    assert d["continuous_reduction"] == pytest.approx(0.405, rel=1e-10)
    # 1 - mean_s 1.1^-k(s), the piecewise-constant integral over the closed-form milestones.
    edges = [0, *MILESTONES, S]
    stepwise = 1 - sum((edges[k + 1] - edges[k]) * 1.1**-k for k in range(25)) / S
    assert d["stepwise_reduction"] == pytest.approx(stepwise, rel=1e-10)
    assert d["final_lr"] == pytest.approx(1.1**-12, rel=1e-12) and d["final_batch"] == ref["batch"][-1]
    assert [m["k"] for m in d["milestones"]] == list(range(1, 25))
    assert [m["tokens"] for m in d["milestones"]] == MILESTONES
    assert [m["step"] for m in d["milestones"]] == ref["milestone_steps"]
    assert [m["batch"] for m in d["milestones"]] == ref["batch_after"]
    np.testing.assert_allclose([m["lr"] for m in d["milestones"]], 1.1 ** (-np.arange(1, 25) / 2), rtol=1e-12)
    assert not any(m["capped"] for m in d["milestones"])
    rule = d["rule"]
    assert rule["cut"] == 1.1 and rule["batch_factor"] == 1.1 and rule["admissible"]
    assert rule["lr_factor"] == pytest.approx(math.sqrt(1.1), rel=1e-15)
    assert d["notes"] == []


def test_cli_table_prints_the_token_counts(capsys):
    assert main(["seesaw", "--tokens", "3.3e9", "--batch", "256"]) == 0
    out = capsys.readouterr().out
    assert "12,589" in out and "(3,300,130,816 tokens)" in out
    assert "7,756" in out and "(3,300,596,736 tokens, 596,736 past the budget)" in out
    assert "38.39%" in out and "38.45%" in out and "40.50%" in out


@pytest.mark.parametrize("tokens, batch", [(3.3e9, 128), (6.6e9, 512)])
def test_converter_equals_the_per_step_loop(tokens, batch):
    budget = int(tokens)
    base = bt.olmo_cosine_lr(3e-3, tokens)
    plan = bt.ramp_schedule(base, batch, bt.seesaw_rule(1.1), tokens_per_sample=1024)
    ms = [int(m) for m in base.milestones(1.1)]
    ref = reference_ramp(ms, budget, batch, 1024, math.sqrt(1.1), 1.1, lr0=3e-3, base=base, warmup=0.1 * tokens)
    acc = plan.accounting
    np.testing.assert_array_equal(plan.schedule.batch, ref["batch"])
    np.testing.assert_allclose(plan.schedule.lr, ref["lr"], rtol=1e-12)
    np.testing.assert_array_equal(plan.milestone_steps, ref["milestone_steps"])
    np.testing.assert_array_equal(plan.batch_after, ref["batch_after"])
    base_steps = ceil_div(budget, batch * 1024)
    assert (acc.base_steps, acc.base_samples) == (base_steps, base_steps * batch * 1024)
    assert (acc.ramp_steps, acc.ramp_samples, acc.overshoot) == (ref["batch"].size, ref["seen"], ref["seen"] - budget)
    assert acc.reduction == pytest.approx(1 - ref["batch"].size / base_steps, rel=1e-12)
    assert plan.base.steps == base_steps and int(plan.base.samples) * 1024 == acc.base_samples


# ----------------------------------------------------------------------------- step-count rounding (hypothesis)
@settings(max_examples=80, deadline=None, derandomize=True, database=None)  # fixed examples: no flaky runs
@given(budget=st.integers(1, 20_000), batch=st.integers(1, 64), seq=st.sampled_from([1, 2, 3, 1024]))
@example(budget=4000, batch=10, seq=1)  # divides
@example(budget=4001, batch=10, seq=1)  # one sample more: one step more
@example(budget=3999, batch=10, seq=1)
@example(budget=7, batch=7, seq=1)  # exactly one step
def test_to_schedule_step_count(budget, batch, seq):
    per_step = batch * seq
    if per_step > budget:
        with pytest.raises(ValueError, match="smaller than one batch"):
            bt.constant_lr(1.0, budget).to_schedule(batch, seq)
        return
    base = bt.linear_lr(2.0, budget, 0.1)
    s = base.to_schedule(batch, seq)
    steps = ceil_div(budget, per_step)
    assert s.steps == steps
    assert s.samples * seq >= budget > (s.samples - batch) * seq  # covers the budget, by less than one batch
    np.testing.assert_array_equal(s.batch, np.full(steps, batch))
    seen = np.arange(steps) * float(per_step)
    np.testing.assert_allclose(s.lr, 2.0 * (1 - 0.9 * seen / budget), rtol=1e-12)  # r(u) = 1 - (1 - f) u


@st.composite
def step_base_and_rule(draw):
    b0 = draw(st.integers(1, 16))
    seq = draw(st.sampled_from([1, 3]))
    per = b0 * seq
    budget = draw(st.one_of(st.integers(1, 200).map(lambda n: n * per), st.integers(per, 200 * per)))
    # Milestones both on step boundaries of the initial batch (seen == milestone exactly) and off them.
    on = st.integers(0, max(0, (budget - 1) // per)).map(lambda n: n * per)
    ms = sorted(set(draw(st.lists(st.one_of(on, st.integers(0, budget - 1)), min_size=1, max_size=4))))
    cut = draw(st.sampled_from([2.0, 1.5, 1.25]))
    batch_factor = draw(st.sampled_from([1.0, 1.5, cut]))
    return budget, b0, seq, ms, cut, batch_factor


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(step_base_and_rule())
@example((4000, 10, 1, [1000, 2500], 2.0, 1.0))  # test_seesaw's case: milestones on step boundaries
@example((4003, 10, 1, [1000, 2501], 2.0, 2.0))  # a budget and a milestone that do not divide
@example((4000, 8, 1, [0, 800], 2.0, 2.0))  # a milestone at sample 0
def test_step_base_ramp_equals_the_per_step_loop(case):
    budget, b0, seq, ms, cut, batch_factor = case
    base = bt.step_lr(0.5, budget, ms, cut)
    rule = bt.ramp_rule(cut, batch_factor=batch_factor, line="sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a big batch may overshoot the budget
        plan = bt.ramp_schedule(base, b0, rule, tokens_per_sample=seq)
    np.testing.assert_array_equal(plan.milestones, ms)
    ref = reference_ramp(ms, budget, b0, seq, cut / batch_factor, batch_factor, lr0=0.5)
    np.testing.assert_array_equal(plan.schedule.batch, ref["batch"])
    np.testing.assert_allclose(plan.schedule.lr, ref["lr"], rtol=1e-12)
    steps_taken = [s for s in plan.milestone_steps.tolist() if s >= 0]
    assert steps_taken == ref["milestone_steps"]
    acc = plan.accounting
    base_steps = ceil_div(budget, b0 * seq)
    assert (acc.base_steps, acc.base_samples) == (base_steps, base_steps * b0 * seq)
    assert (acc.ramp_steps, acc.ramp_samples, acc.overshoot) == (ref["batch"].size, ref["seen"], ref["seen"] - budget)
    assert acc.reduction == pytest.approx(1 - ref["batch"].size / base_steps, rel=1e-12, abs=1e-15)
    first_steps = [ceil_div(m, b0 * seq) for m in ms]  # the first step whose samples seen reach each milestone
    if batch_factor == 1.0 and len(set(first_steps)) == len(ms):
        # The pure-decay rule of a step base with the same factor is the base itself, step for step:
        # lr_k = lr(k B L), which decays at the first step whose samples seen reach a milestone
        # (when no two milestones fall in one step: the converter consumes one per step).
        np.testing.assert_allclose(plan.schedule.lr, 0.5 * cut ** -np.searchsorted(ms, np.arange(base_steps) * b0 * seq, side="right"), rtol=1e-12)
        assert acc.ramp_steps == base_steps and acc.reduction == 0.0
