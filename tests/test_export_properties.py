"""Property tests (hypothesis): quantisation never violates a framework constraint.

Over micro-batch, data-parallel size, sequence length, initial batch and cut factor, every format's
runnable ramp has global batches that are multiples of ``micro x dp``, reaches the budget with no
extra step, keeps its format's own rules (strictly increasing thresholds from 0, whole-number
linear increments, integer factors, per-device integers), and its text parses back to the same run.
"""

import warnings

import jax
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchramp_theory as bt
from batchramp_theory import export as ex

jax.config.update("jax_enable_x64", True)

layouts = st.tuples(st.integers(1, 8), st.integers(1, 16), st.integers(1, 2048), st.integers(1, 64),
                    st.sampled_from([1.1, 1.5, 2.0]), st.integers(2_000, 40_000))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_plan(b0, cut, samples, seq):
    base = bt.half_cosine_lr(1.0, float(samples * seq), 0.1, warmup_fraction=0.1, warmup_start=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bt.ramp_schedule(base, b0, bt.seesaw_rule(cut), tokens_per_sample=seq)


def layout(args):
    """``(micro, dp, seq, plan, m)`` from a drawn layout: the ramp plan and the batch multiple ``m = micro x dp``."""
    micro, dp, seq, b0, cut, samples = args
    return micro, dp, seq, make_plan(b0, cut, samples, seq), micro * dp


def common(rr, plan, m):
    b = np.asarray(rr.schedule.batch)
    assert np.all(b % m == 0) and np.all(b >= m)
    seq = plan.tokens_per_sample
    total = int(b.sum()) * seq
    assert total >= plan.base_lr.budget > total - int(b[-1]) * seq  # reaches the budget, no extra step
    lr = np.asarray(rr.schedule.lr)
    assert np.all(np.isfinite(lr)) and np.all(lr > 0)


@SETTINGS
@given(layouts)
def test_threshold_formats(args):
    micro, dp, seq, plan, m = layout(args)
    thr, ideal = ex.ideal_stages(plan)
    allowed = {ex.nearest_multiple(x, m) for x in ideal}
    for fmt in ("megatron", "levanter", "csv"):
        rr = ex.quantize(plan, fmt, micro_batch=micro, data_parallel=dp)
        common(rr, plan, m)
        assert set(np.unique(rr.schedule.batch)) <= allowed  # only nearest multiples of ideal batches
        text = ex.render(rr)
        if fmt == "megatron":
            sched = ex.megatron.parse_step_schedule(text.split('"')[1], seq_length=seq)
            assert sched[0][0] == 0 and all(a[0] < c[0] for a, c in zip(sched, sched[1:]))
            got = ex.megatron.step_schedule_batches(sched, plan.base_lr.budget / seq)
        elif fmt == "levanter":
            steps = ex.levanter.parse_levanter(text)
            assert steps[0][0] == 0 and all(a[0] < c[0] for a, c in zip(steps, steps[1:]))
            got = ex.levanter.levanter_batches(steps, rr.schedule.steps)
        else:
            got, _ = ex.optax_schedule.table_steps(ex.optax_schedule.parse_table(text), rr.schedule.steps)
        np.testing.assert_array_equal(got, rr.schedule.batch)


@SETTINGS
@given(layouts)
def test_linear_formats(args):
    micro, dp, seq, plan, m = layout(args)
    _, ideal = ex.ideal_stages(plan)
    collapses = ex.nearest_multiple(ideal[-1], m) <= ex.nearest_multiple(ideal[0], m)
    for fmt in ("megatron-legacy", "maxtext"):
        try:
            rr = ex.quantize(plan, fmt, micro_batch=micro, data_parallel=dp)
        except ValueError as e:  # only when rounding leaves no ramp, and then it says so
            assert collapses and "needs a final batch above the start batch" in str(e)
            continue
        assert not collapses
        common(rr, plan, m)
        c = rr.config
        if fmt == "maxtext":
            for k in ("per_device_batch_size_start", "per_device_batch_size_increment", "per_device_batch_size"):
                assert float(c[k]).is_integer() and c[k] % micro == 0
            assert ex.maxtext.check_maxtext(c) >= 1
            got = ex.maxtext.maxtext_batches(ex.maxtext.parse_maxtext(ex.render(rr)), dp, plan.base_lr.budget / seq)
        else:
            assert (c["global_batch_size"] - c["start"]) % c["increment"] == 0 and c["increment"] % m == 0
            got = ex.megatron.rampup_batches(c["start"], c["increment"], c["ramp_samples"], c["global_batch_size"],
                                             plan.base_lr.budget / seq)
        np.testing.assert_array_equal(got, rr.schedule.batch)


@SETTINGS
@given(layouts)
def test_olmo_core(args):
    micro, dp, seq, plan, m = layout(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rr = ex.quantize(plan, "olmo-core", micro_batch=micro, data_parallel=dp)
        text = ex.render(rr)
    common(rr, plan, m)
    bs, thr = rr.config["batch_sizes"], rr.config["schedule"]
    assert thr[0] == 0 and all(a < c for a, c in zip(thr, thr[1:]))
    assert all(c % a == 0 and c > a for a, c in zip(bs, bs[1:]))  # integer factors, growing
    assert all(b % seq == 0 for b in bs)
    b2, t2 = ex.olmo_core.parse_olmo(text)
    np.testing.assert_array_equal(ex.olmo_core.olmo_batches(b2, t2, seq, plan.base_lr.budget), rr.schedule.batch)
    # the exported LR times the callback's own sqrt factor is the intended LR
    np.testing.assert_allclose(rr.config["lr"] * ex.olmo_core.olmo_lr_factor(rr.schedule.batch), rr.schedule.lr,
                               rtol=1e-12)


def test_property_check_can_fail():
    # Negative control: the ideal (unquantised) ramp violates the multiple-of-m check for m = 3.
    plan = make_plan(16, 1.1, 20_000, 64)
    fake = ex.RunnableRamp("megatron", {}, plan.schedule, ex.constraints(3, 1, 64), plan.base_lr.budget)
    try:
        common(fake, plan, 3)
    except AssertionError:
        return
    raise AssertionError("the constraint check accepted batches that are not multiples of 3")
