"""Exporters: golden exports derived by hand from each framework's cited semantics, round trips
through the framework-semantics parsers, bad input, the cost report and the CLI.

The goldens are computed by hand in the comments (not copied from the code's output): a step
decay base with one cut of 2 at a known sample count gives an ideal Seesaw ramp 8 -> 16 whose
framework runs can be counted on paper.
"""

import json
import math
import warnings

import jax
import numpy as np
import pytest
from helpers import RTOL_EXACT

import batchramp_theory as bt
from batchramp_theory import export as ex
from batchramp_theory.cli import main

jax.config.update("jax_enable_x64", True)


def tiny_plan(milestone=800, seq=1, budget=1600):
    """lr0 = 1 halves at ``milestone`` samples (x seq tokens); Seesaw(2): batch 8 -> 16, lr -> 1/sqrt2."""
    base = bt.step_lr(1.0, budget * seq, [milestone * seq], 2.0)
    return bt.ramp_schedule(base, 8, bt.seesaw_rule(2.0), tokens_per_sample=seq)


def test_tiny_plan_is_what_the_goldens_assume():
    plan = tiny_plan()
    # 100 steps of 8 reach 800 samples; then 800 / 16 = 50 steps of 16.
    assert plan.schedule.steps == 150
    assert np.all(plan.schedule.batch[:100] == 8) and np.all(plan.schedule.batch[100:] == 16)
    np.testing.assert_allclose(plan.schedule.lr[100:], 1 / math.sqrt(2), rtol=RTOL_EXACT)


# -- golden exports (hand-derived; m = micro x dp = 3 rounds 8 -> 9 and 16 -> 15) -----------------

def test_megatron_golden():
    # batch 9 until consumed >= 800: 9 x 89 = 801, so step 89 starts at 801 samples = 3204 tokens
    # (seq 4); then 15: (1600 - 801) / 15 -> 54 steps; 143 in all.
    rr = ex.quantize(tiny_plan(seq=4), "megatron", micro_batch=3)
    assert ex.render(rr) == '--micro-batch-size 3 --seq-length 4 --step-batch-size-schedule "0:9 3204:15"'
    assert rr.schedule.steps == 143
    assert list(rr.change_steps) == [0, 89]


def test_megatron_suffixes_round_trip():
    assert ex.megatron.format_count(250_000_000_000) == "250B"
    assert ex.megatron.format_count(1_500_000) == "1500K"
    assert ex.megatron.format_count(941_621_248) == "941621248"
    assert ex.megatron.parse_step_schedule("0:768 250B:1536, 500B:3072", seq_length=4096) == [
        (0, 768), (250_000_000_000 // 4096, 1536), (500_000_000_000 // 4096, 3072)]


def test_megatron_legacy_golden():
    # start 9, global 15, increment 3, ramp 800 samples: n = 2, 400 samples per increment.
    # 9 while consumed < 400 (45 steps, 405), 12 while consumed <= 800 (33 steps: 405 + 396 = 801),
    # then 15 for the remaining 799 samples (54 steps): 132 steps.
    rr = ex.quantize(tiny_plan(), "megatron-legacy", micro_batch=3)
    assert ex.render(rr) == "--micro-batch-size 3 --global-batch-size 15 --rampup-batch-size 9 3 800"
    np.testing.assert_array_equal(rr.schedule.batch, [9] * 45 + [12] * 33 + [15] * 54)
    assert any("cannot express" in n for n in rr.notes)  # the reshape is reported, not silent


def test_nemo_golden():
    rr = ex.quantize(tiny_plan(seq=4), "nemo", micro_batch=3)
    assert ex.render(rr) == ("MegatronDataSampler(seq_len=4, micro_batch_size=3, global_batch_size=15, "
                             "rampup_batch_size=[9, 3, 800])")


def test_maxtext_golden_counter_resets():
    # Same numbers per device (dp = 1): stage 1 ends after 45 x 9 = 405 >= 400 samples, the counter
    # resets, stage 2 needs 34 x 12 = 408 >= 400 (Megatron's legacy ramp: 33), then 15 for the
    # remaining 1600 - 813 = 787 samples (53 steps).
    rr = ex.quantize(tiny_plan(), "maxtext", micro_batch=3)
    assert ex.render(rr) == ("enable_rampup_batch_size=true per_device_batch_size_start=9 "
                             "per_device_batch_size_increment=3 per_device_batch_size=15 global_rampup_samples=800")
    np.testing.assert_array_equal(rr.schedule.batch, [9] * 45 + [12] * 34 + [15] * 53)
    assert rr.config["num_devices"] == 1


def test_maxtext_per_device_values():
    rr = ex.quantize(tiny_plan(), "maxtext", micro_batch=1, data_parallel=3)
    # global 9 -> 15 over 3 devices: per device 3 -> 5 by 1
    assert (rr.config["per_device_batch_size_start"], rr.config["per_device_batch_size"]) == (3, 5)


def test_olmo_core_golden_and_divisibility_delay():
    # Cut at 808 samples: due at step 101 (808 samples), but batches_processed = 101 is odd, so the
    # doubling waits one step: step 102, 816 samples = 3264 tokens (seq 4). Batches in tokens.
    plan = tiny_plan(milestone=808, seq=4)
    with pytest.warns(RuntimeWarning, match="sqrt"):
        rr = ex.quantize(plan, "olmo-core")
    assert ex.render(rr) == "BatchSizeSchedulerCallback(batch_sizes=[32, 64], schedule=[Duration.tokens(0), Duration.tokens(3264))])".replace("))])", ")])")
    assert list(rr.change_steps) == [0, 102]
    # the callback multiplies the LR by sqrt(64/32) itself: the exported LR is divided by it
    np.testing.assert_allclose(rr.config["lr"][102:], rr.schedule.lr[102:] / math.sqrt(2), rtol=RTOL_EXACT)
    np.testing.assert_allclose(rr.config["lr"][:102], rr.schedule.lr[:102], rtol=RTOL_EXACT)
    # the LR table for OLMo's scheduler: lr 1 from step 0; the cut (808 samples) lowers the intended
    # lr to 1/sqrt2 at step 101 while the batch waits for step 102, where the callback's own sqrt2
    # is divided out: 1/2 from step 102 (3264 tokens)
    lines = ex.olmo_core.render_olmo_lr(rr).splitlines()
    assert lines[0] == "start_step,start_tokens,lr"
    rows = [(int(a), int(b), float(c)) for a, b, c in (x.split(",") for x in lines[1:])]
    assert [r[:2] for r in rows] == [(0, 0), (101, 3232), (102, 3264)]
    np.testing.assert_allclose([r[2] for r in rows], [1.0, 1 / math.sqrt(2), 0.5], rtol=RTOL_EXACT)


def test_levanter_golden():
    rr = ex.quantize(tiny_plan(), "levanter", micro_batch=3)
    assert ex.render(rr) == ("trainer:\n  per_device_parallelism: 3\n  train_batch_size:\n"
                             "    - start: 0\n      value: 9\n    - start: 89\n      value: 15")


def test_optax_and_table_goldens():
    rr = ex.quantize(tiny_plan(), "optax")
    # no warmup; lr 1 until step 100, then 1/sqrt2
    assert ex.render(rr) == f"import optax\nlr_schedule = optax.piecewise_constant_schedule(1.0, {{100: {1 / math.sqrt(2)!r}}})\n"
    rows = ex.quantize(tiny_plan(), "csv").table()
    assert [(r["step"], r["samples"], r["batch"]) for r in rows] == [(0, 0, 8), (100, 800, 16)]
    assert ex.render(ex.quantize(tiny_plan(seq=4), "csv")) == (
        "start_step,start_samples,start_tokens,batch,lr\n0,0,0,8,1.0\n"
        f"100,800,3200,16,{1 / math.sqrt(2)!r}\n")
    d = json.loads(ex.render(ex.quantize(tiny_plan(seq=4), "json", micro_batch=2)))
    assert d["meta"]["steps"] == 150 and d["meta"]["micro_batch"] == 2
    assert [(r["step"], r["tokens"], r["batch"]) for r in d["rows"]] == [(0, 0, 8), (100, 3200, 16)]


# -- round trips: parse the text back with the framework's semantics ------------------------------

def cosine_plan(seq=64, tokens=2e7, b0=32, cut=1.1):
    base = bt.half_cosine_lr(1.0, tokens, 0.1, warmup_fraction=0.1, warmup_start=0.1)
    return bt.ramp_schedule(base, b0, bt.seesaw_rule(cut), tokens_per_sample=seq)


@pytest.mark.parametrize("fmt", ["megatron", "megatron-legacy", "nemo", "maxtext", "olmo-core", "levanter"])
def test_round_trip_batches(fmt):
    plan = cosine_plan()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rr = ex.quantize(plan, fmt, micro_batch=2, data_parallel=4)
        text = ex.render(rr)
    cons, budget = rr.constraints, plan.base_lr.budget / plan.tokens_per_sample
    if fmt == "megatron":
        sched = ex.megatron.parse_step_schedule(text.split('"')[1], seq_length=cons.seq_len)
        got = ex.megatron.step_schedule_batches(sched, budget)
    elif fmt in ("megatron-legacy", "nemo"):
        nums = [int(x) for x in text.replace("[", " ").replace("]", " ").replace(",", " ").replace(")", " ").split()
                if x.isdigit()]
        start, inc, ramp = nums[-3:]
        glob = rr.config["global_batch_size"]
        assert str(glob) in text
        got = ex.megatron.rampup_batches(start, inc, ramp, glob, budget)
    elif fmt == "maxtext":
        got = ex.maxtext.maxtext_batches(ex.maxtext.parse_maxtext(text), cons.data_parallel, budget)
    elif fmt == "olmo-core":
        b, t = ex.olmo_core.parse_olmo(text)
        got = ex.olmo_core.olmo_batches(b, t, cons.seq_len, plan.base_lr.budget)
    else:
        got = ex.levanter.levanter_batches(ex.levanter.parse_levanter(text), rr.schedule.steps)
    np.testing.assert_array_equal(got, rr.schedule.batch)


def test_round_trip_lr_optax_and_tables():
    plan = cosine_plan()
    rr = ex.quantize(plan, "optax", micro_batch=2, data_parallel=4)
    ns = {}
    exec(ex.render(rr), ns)  # the exported Python source itself
    steps = np.arange(rr.schedule.steps)
    got = np.asarray(jax.vmap(ns["lr_schedule"])(steps))
    np.testing.assert_allclose(got, rr.schedule.lr, rtol=RTOL_EXACT)
    got2 = np.asarray(jax.vmap(ex.optax_schedule.optax_lr(rr.schedule.lr))(steps))
    np.testing.assert_allclose(got2, rr.schedule.lr, rtol=RTOL_EXACT)
    for fmt in ("json", "csv"):
        rt = ex.quantize(plan, fmt, micro_batch=2, data_parallel=4)
        b, lr = ex.optax_schedule.table_steps(ex.optax_schedule.parse_table(ex.render(rt)), rt.schedule.steps)
        np.testing.assert_array_equal(b, rt.schedule.batch)
        np.testing.assert_allclose(lr, rt.schedule.lr, rtol=RTOL_EXACT)


def test_round_trip_negative_control():
    # A schedule text edited by one threshold must not reproduce the run (the round trip can fail).
    plan = cosine_plan()
    rr = ex.quantize(plan, "megatron", micro_batch=2, data_parallel=4)
    entries = list(rr.config["entries"])
    entries[1] = (entries[1][0] + 10 * int(entries[1][1]), entries[1][1])
    got = ex.megatron.step_schedule_batches(entries, plan.base_lr.budget / plan.tokens_per_sample)
    assert got.shape != rr.schedule.batch.shape or np.any(got != rr.schedule.batch)


def test_lr_of_quantised_ramp_follows_the_plan_in_samples():
    plan = cosine_plan()
    rr = ex.quantize(plan, "megatron", micro_batch=1, data_parallel=1)
    # m = 1: nothing to round, so the run is the ideal ramp itself, lr included.
    np.testing.assert_array_equal(rr.schedule.batch, plan.schedule.batch)
    np.testing.assert_allclose(rr.schedule.lr, plan.schedule.lr, rtol=RTOL_EXACT)


# -- bad input: a clear error naming the constraint ------------------------------------------------

def test_seq_len_zero_and_mismatch():
    plan = cosine_plan()
    with pytest.raises(ValueError, match="seq_len must be >= 1"):
        ex.quantize(plan, "megatron", seq_len=0)
    with pytest.raises(ValueError, match="seq_len .* must equal"):
        ex.quantize(plan, "megatron", seq_len=128)
    with pytest.raises(ValueError, match="micro_batch must be >= 1"):
        ex.quantize(plan, "megatron", micro_batch=0)
    with pytest.raises(ValueError, match="format must be one of"):
        ex.quantize(plan, "deepspeed")


def test_non_divisible_sizes_are_rejected_by_the_exporters():
    cons = ex.constraints(4, 2, 1)
    with pytest.raises(ValueError, match="not a multiple of micro_batch x data_parallel = 4 x 2 = 8"):
        ex.megatron.render_step_schedule([(0, 16), (100, 20)], cons)
    with pytest.raises(ValueError, match="not divisible by the increment"):
        ex.megatron.check_rampup(16, 20, 100, 64, cons)
    with pytest.raises(ValueError, match="must be divisible by per_device_parallelism"):
        ex.levanter.render_levanter([(0, 16), (5, 20)], cons)
    with pytest.raises(ValueError, match="integer factor"):
        ex.olmo_core.check_olmo([16, 24], [0, 100])


def test_ramps_a_format_cannot_express():
    # No growth left after rounding: a linear ramp cannot be written (Megatron would divide by zero).
    plan = tiny_plan()
    with pytest.raises(ValueError, match="needs a final batch above the start batch"):
        ex.quantize(plan, "megatron-legacy", micro_batch=16)
    with pytest.raises(ValueError, match="first threshold must be 0"):
        ex.megatron.parse_step_schedule("100:8 200:16")
    with pytest.raises(ValueError, match="strictly increasing"):
        ex.megatron.parse_step_schedule("0:8 2K:16 2000:32")
    with pytest.raises(ValueError, match="must start at 0"):
        ex.olmo_core.check_olmo([16, 32], [5, 100])
    with pytest.raises(ValueError, match="duplicate batch size"):
        ex.olmo_core.check_olmo([16, 16], [0, 100])
    with pytest.raises(ValueError, match="must exceed per_device_batch_size_start"):
        ex.maxtext.check_maxtext({"per_device_batch_size_start": 4, "per_device_batch_size_increment": 1,
                                  "per_device_batch_size": 4, "global_rampup_samples": 10})


# -- the cost report --------------------------------------------------------------------------------

def test_cost_no_quantisation_costs_nothing_and_coarse_quantisation_costs_something():
    plan = cosine_plan(seq=64, tokens=4e6, b0=16, cut=1.1)
    p = bt.power_law_problem(200, 2.0, 0.5, noise=0.5)
    exact = ex.quantization_cost(plan, ex.quantize(plan, "megatron"), p)
    # m = 1: the runnable ramp is the ideal ramp, so the ratio is 1 to rounding (exact identity).
    assert abs(exact.ratio_vs_ideal - 1.0) < RTOL_EXACT
    assert exact.steps_quantized == exact.steps_ideal == plan.accounting.ramp_steps
    assert exact.steps_decay == plan.accounting.base_steps
    # Negative control: a linear ramp from sample 0 is a different run and must not price at 1.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lin = ex.quantization_cost(plan, ex.quantize(plan, "megatron-legacy"), p)
    assert abs(lin.ratio_vs_ideal - 1.0) > 1e-3
    # the decay baseline risk does not depend on the quantisation
    assert lin.risk_decay == pytest.approx(exact.risk_decay, rel=RTOL_EXACT)


def test_cost_b_noise_crossing_measured():
    plan = cosine_plan(seq=64, tokens=4e6, b0=16, cut=1.1)
    rr = ex.quantize(plan, "megatron")
    p = bt.power_law_problem(200, 2.0, 0.5, noise=0.5)
    # a measured B_noise of 20: the first step whose batch exceeds 20
    c = ex.quantization_cost(plan, rr, p, b_noise=20.0)
    k = int(np.flatnonzero(np.asarray(rr.schedule.batch) > 20)[0])
    assert (c.crossing_step, c.b_noise_source) == (k, "measured")
    never = ex.quantization_cost(plan, rr, p, b_noise=1e9)
    assert never.crossing_step == -1 and math.isnan(never.gap_at_crossing)
    with pytest.raises(ValueError, match="b_noise must be a positive number"):
        ex.quantization_cost(plan, rr, p, b_noise=0.0)


def test_cost_problem_b_noise_matches_noise_along():
    plan = cosine_plan(seq=64, tokens=4e6, b0=16, cut=1.1)
    rr = ex.quantize(plan, "megatron")
    p = bt.power_law_problem(200, 2.0, 0.5, noise=0.5)
    c = ex.quantization_cost(plan, rr, p)
    opt = ex.cost.default_optimizer(plan)
    bn = np.asarray(bt.noise_along(p, rr.schedule.scale_lr(c.lr), opt).b_noise)[:-1]
    b = np.asarray(rr.schedule.batch)
    j = int(np.argmax(b <= bn))  # first step below B_noise (B_noise starts small: the risk is far above sigma^2)
    g = max(j, int(np.argmax(np.diff(b) > 0)) + 1)  # margin from the first batch increase on
    assert b[j] <= bn[j] and c.min_margin == pytest.approx(np.min(bn[g:] / b[g:]), rel=RTOL_EXACT)
    after = np.flatnonzero(b[j:] > bn[j:])
    assert c.crossing_step == (j + int(after[0]) if after.size else -1)
    # A measured B_noise just below the top batch: the crossing is where the batch first exceeds it.
    top = float(b.max())
    cm = ex.quantization_cost(plan, rr, p, b_noise=top - 0.5)
    assert cm.crossing_step == int(np.argmax(b > top - 0.5)) and not cm.above_from_start
    # Below the initial batch: above from the start.
    c0 = ex.quantization_cost(plan, rr, p, b_noise=float(b[0]) / 2)
    assert c0.above_from_start and c0.crossing_step == 0


def test_load_problem(tmp_path):
    p = bt.power_law_problem(20, 2.0, 0.5, noise=0.3)
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"eigenvalues": p.eigenvalues.tolist(), "target": p.target.tolist(), "noise": 0.3}))
    q = ex.load_problem(f)
    np.testing.assert_array_equal(q.eigenvalues, p.eigenvalues)
    with pytest.raises(ValueError, match="lacks noise"):
        (tmp_path / "bad.json").write_text(json.dumps({"eigenvalues": [1.0], "target": [1.0]}))
        ex.load_problem(tmp_path / "bad.json")


# -- the CLI ------------------------------------------------------------------------------------------

def test_cli_export_writes_and_reports(tmp_path, capsys):
    out = tmp_path / "sched.txt"
    js = tmp_path / "plan.json"
    rc = main(["seesaw", "--tokens", "4e6", "--batch", "16", "--seq-len", "64", "--export", "megatron",
               "--micro-batch", "2", "--data-parallel", "2", "--out", str(out), "--dim", "100", "--json", str(js)])
    assert rc == 0
    text = out.read_text().strip()
    assert text.startswith("--micro-batch-size 2 --seq-length 64 --step-batch-size-schedule")
    d = json.loads(js.read_text())
    assert d["export"]["text"] == text and d["cost"]["steps_quantized"] == d["export"]["steps"]


@pytest.mark.parametrize("argv, what", [
    (["--seq-len", "0"], "--seq-len: must be >= 1"),
    (["--micro-batch", "0"], "--micro-batch: must be >= 1"),
    (["--micro-batch", "256"], "needs a final batch above the start batch"),
])
def test_cli_bad_input_exits_2(argv, what, capsys):
    fmt = "megatron-legacy" if "256" in argv else "megatron"
    rc = main(["seesaw", "--tokens", "4e6", "--batch", "16", "--seq-len", "64", "--export", fmt, "--no-cost", *argv])
    assert rc == 2
    assert what in capsys.readouterr().err
