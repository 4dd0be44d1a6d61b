"""The schedules package: one warmup convention for steps and samples, layout, deprecated aliases."""

import math
import warnings

import jax
import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory import schedules
from batchramp_theory.schedules import (
    linear_warmup,
    sample_schedules,
    step_schedules,
    warmup,
)


# ----------------------------------------------------------------------------- one warmup
@pytest.mark.parametrize("batch", [1, 8, 64])
@pytest.mark.parametrize("warmup_start", [0.0, 0.1, 0.5])
def test_same_warmup_in_steps_and_in_samples(batch, warmup_start):
    # W steps at constant batch B is W B samples: the per-step cosine and the base schedule in
    # samples, materialised at B, give the same learning rate at every step.
    lr, final, steps, w = 2.0, 0.2, 200, 20
    per_step = bt.cosine(lr, batch, steps, final_lr=final, warmup_steps=w, warmup_start=warmup_start)
    base = bt.half_cosine_lr(lr, steps * batch, final / lr, warmup_fraction=w / steps, warmup_start=warmup_start)
    assert base.warmup_samples == w * batch
    in_samples = base.to_schedule(batch)
    assert in_samples.steps == per_step.steps
    np.testing.assert_allclose(in_samples.lr, per_step.lr, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(in_samples.batch, per_step.batch)
    # Both are the one function: start at warmup_start * lr, linear, the peak at k = W.
    k = np.arange(w, dtype=np.float64)
    np.testing.assert_array_equal(per_step.lr[:w], linear_warmup(np.zeros(w), k, w, warmup_start * lr, lr))
    np.testing.assert_array_equal(base.ratio(k * batch), linear_warmup(np.zeros(w), k * batch, w * batch, warmup_start))
    assert per_step.lr[0] == pytest.approx(warmup_start * lr, abs=1e-15)
    assert per_step.lr[w] == lr and in_samples.lr[w] == pytest.approx(lr, rel=1e-15)
    assert per_step.lr[w - 1] == pytest.approx(lr - (lr - warmup_start * lr) / w, rel=1e-14)


def test_both_families_call_the_one_warmup(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[2])
        return warmup.linear_warmup(*args, **kwargs)

    monkeypatch.setattr(step_schedules, "linear_warmup", spy)
    monkeypatch.setattr(sample_schedules, "linear_warmup", spy)
    bt.cosine(1.0, 4, 50, warmup_steps=5)
    bt.olmo_cosine_lr(1.0, 1000.0)(np.arange(10.0))
    assert calls == [5, 100.0]


def test_cosine_default_warmup_starts_at_final_lr_bit_for_bit():
    # The per-step cosine's warmup has always started at final_lr: unchanged, bit for bit.
    lr, final, steps, w = 1.0, 0.1, 101, 10
    k = np.arange(steps, dtype=np.float64)
    u = (k - w) / (steps - w)
    old = final + (lr - final) * 0.5 * (1.0 + np.cos(np.pi * u))
    old = np.where(k < w, final + (lr - final) * k / w, old)
    np.testing.assert_array_equal(bt.cosine(lr, 2, steps, final_lr=final, warmup_steps=w).lr, old)
    np.testing.assert_array_equal(bt.cosine(lr, 2, steps, final_lr=final).lr[:3],
                                  final + (lr - final) * 0.5 * (1.0 + np.cos(np.pi * k[:3] / steps)))


def test_sample_warmup_bit_for_bit_and_in_the_optax_export():
    base = bt.olmo_cosine_lr(3.0, 10_000.0)  # W = 1000 samples from 0.3
    s = np.arange(0.0, 1000.0, 7.0)
    np.testing.assert_array_equal(base.ratio(s), 0.1 + (1.0 - 0.1) * s / 1000.0)
    got = np.asarray(jax.jit(jax.vmap(base.optax_schedule(64)))(np.arange(16)))
    np.testing.assert_allclose(got, base(np.arange(16) * 64.0), rtol=1e-12)


def test_linear_warmup_without_length_is_the_identity():
    x = np.linspace(0.0, 1.0, 5)
    assert linear_warmup(x, np.arange(5), 0, 0.5) is x


def test_cosine_warmup_start_is_validated():
    with pytest.raises(ValueError, match="warmup_start"):
        bt.cosine(1.0, 1, 10, warmup_steps=2, warmup_start=1.5)


# ----------------------------------------------------------------------------- layout
def test_every_old_public_name_is_in_the_package():
    old = ["Schedule", "constant", "step_decay", "cosine", "stack_schedules",            # schedules.py
           "LRSchedule", "constant_lr", "step_lr", "exponential_lr", "linear_lr", "wsd_lr",
           "quarter_cosine_lr", "half_cosine_lr", "olmo_cosine_lr",                      # lr_schedules.py
           "wsd", "cyclic", "two_stage"]                                                 # fsl/schedules.py
    for name in old:
        assert name in schedules.__all__, name
        obj = getattr(schedules, name)
        if hasattr(bt, name):
            assert getattr(bt, name) is obj, name
    for name in ["wsd", "cyclic", "two_stage"]:
        assert getattr(bt.fsl, name) is getattr(schedules, name)


def test_per_step_fsl_schedules_unchanged():
    lr, k = 0.4, 1000
    w = bt.fsl.wsd(lr, 2, k)
    np.testing.assert_array_equal(w.lr[:800], lr)
    assert w.lr[-1] == pytest.approx(lr / k, rel=1e-12)
    c = bt.fsl.cyclic(lr, 2, k, period=250, min_lr=0.04)
    assert c.lr[0] == lr and c.lr[125] == pytest.approx(0.04, rel=1e-12)
    kk = np.arange(k, dtype=np.float64)
    np.testing.assert_array_equal(c.lr, 0.04 + (lr - 0.04) * 0.5 * (1.0 + np.cos(2.0 * np.pi * kk / 250)))
    t = bt.fsl.two_stage(lr, 4, 16, 10, 5)
    assert t.samples == 4 * 10 + 16 * 5


# ----------------------------------------------------------------------------- deprecated aliases
FACTORIES = [bt.constant_lr, bt.exponential_lr, bt.linear_lr, bt.wsd_lr, bt.quarter_cosine_lr,
             bt.half_cosine_lr, bt.olmo_cosine_lr]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_total_samples_and_warmup_keywords_are_deprecated_aliases(factory):
    new = factory(2.0, budget=1000.0, warmup_fraction=0.1)
    with pytest.warns(DeprecationWarning, match="'total_samples' is deprecated; use 'budget'"):
        old = factory(2.0, total_samples=1000.0, warmup_fraction=0.1)
    with pytest.warns(DeprecationWarning, match="'warmup' is deprecated; use 'warmup_fraction'"):
        old2 = factory(2.0, 1000.0, warmup=0.1)
    s = np.linspace(0.0, 1000.0, 41)
    for o in (old, old2):
        assert o.budget == new.budget and o.warmup_samples == new.warmup_samples == 100
        np.testing.assert_array_equal(o(s), new(s))
    with pytest.raises(TypeError, match="both"):
        factory(2.0, 1000.0, budget=1000.0, total_samples=1000.0)


def test_step_lr_deprecated_budget_keyword():
    with pytest.warns(DeprecationWarning, match="total_samples"):
        s = bt.step_lr(1.0, total_samples=1000, milestones=[500])
    assert s.budget == 1000 and s.mean_ratio() == pytest.approx(0.75, rel=1e-12)


def test_lr_schedule_total_samples_attribute_and_constructor_alias():
    base = bt.olmo_cosine_lr(1.0, 5e5)
    assert base.total_samples == base.budget == 5e5
    assert "Deprecated alias of" in type(base).total_samples.__doc__
    with pytest.warns(DeprecationWarning, match="total_samples"):
        again = bt.LRSchedule(base.name, base.lr0, total_samples=base.budget, warmup_samples=base.warmup_samples,
                              warmup_start=base.warmup_start, decay=base.decay)
    assert again.budget == base.budget and again(123.0) == base(123.0)
    d = base.describe()
    assert d["budget"] == d["total_samples"] == 5e5 and d["warmup_fraction"] == d["warmup"] == 0.1


def test_cut_and_batch_factor_keywords_with_deprecated_aliases():
    base = bt.olmo_cosine_lr(1.0, 1e7)
    ms = base.milestones(cut=1.1)
    red = base.stepwise_reduction(cut=2.0, batch_factor=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert base.stepwise_reduction(2.0, 2.0) == red  # positional calls do not warn
    with pytest.warns(DeprecationWarning, match="cut_factor"):
        np.testing.assert_array_equal(base.milestones(cut_factor=1.1), ms)
    with pytest.warns(DeprecationWarning, match="'beta' is deprecated; use 'batch_factor'"):
        assert base.stepwise_reduction(2.0, beta=2.0) == red
    with pytest.warns(DeprecationWarning, match="cut_factor"):
        assert base.stepwise_reduction(cut_factor=1.1) == base.stepwise_reduction(1.1)
    assert math.isclose(base.stepwise_reduction(1.1), 0.3845, abs_tol=5e-5)


def test_step_decay_milestones_must_be_steps_of_the_run():
    with pytest.raises(ValueError, match=r"milestones must be steps of the run, in \[0, steps\) = \[0, 3000\); got \[4000\]"):
        bt.step_decay(0.4, batch=8, steps=3000, milestones=[4000])
    with pytest.raises(ValueError, match="milestones"):
        bt.step_decay(0.4, batch=8, steps=3000, milestones=[1000, 3000])  # step 3000 is past the last (2999)
    s = bt.step_decay(0.4, batch=8, steps=3000, milestones=[2999])  # the last step is a step of the run
    assert s.lr[2998] == 0.4 and s.lr[2999] == 0.2
