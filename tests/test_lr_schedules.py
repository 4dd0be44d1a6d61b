"""Base learning-rate schedules in samples: values, continuous-limit accounting, milestones, export."""

import math

import jax
import numpy as np
import pytest
from scipy.special import gamma as gamma_fn

import batchramp_theory as bt

# Exact identities in float64 (quadrature is accurate to ~1e-13).
RTOL = 1e-10


# ----------------------------------------------------------------------------- continuous limits
def test_quarter_cosine_reduction_is_lemma1():
    # Seesaw Lemma 1: steps 2T/pi, reduction 1 - 2/pi.
    assert bt.quarter_cosine_lr(1.0, 1e6).continuous_reduction() == pytest.approx(1 - 2 / math.pi, rel=RTOL)


def test_half_cosine_reduction_is_half():
    assert bt.half_cosine_lr(1.0, 1e6).continuous_reduction() == pytest.approx(0.5, rel=RTOL)


def test_olmo_schedule_reduction():
    # 10% warmup counted at r = 1, then mean of the half cosine to 0.1 is 0.55:
    # 1 - (0.1 + 0.9 * 0.55) = 0.405 (docs/equivalence.md, "Lemma 1 and the general formula").
    base = bt.olmo_cosine_lr(3e-3, 1e7)
    assert base.continuous_reduction() == pytest.approx(0.405, rel=RTOL)
    # With the cut factor 1.1 the batch lags the cosine: 38.45% (same section).
    assert base.stepwise_reduction(1.1) == pytest.approx(0.3845, abs=5e-5)


@pytest.mark.parametrize("f", [0.0, 0.1, 0.5])
def test_linear_and_half_cosine_reduction(f):
    assert bt.linear_lr(1.0, 1e6, f).continuous_reduction() == pytest.approx((1 - f) / 2, rel=RTOL)
    assert bt.half_cosine_lr(1.0, 1e6, f).continuous_reduction() == pytest.approx((1 - f) / 2, rel=RTOL)


def test_exponential_and_constant_reduction():
    f = 0.1
    assert bt.exponential_lr(1.0, 1e6, f).mean_ratio() == pytest.approx((1 - f) / math.log(1 / f), rel=RTOL)
    assert bt.constant_lr(1.0, 1e6).continuous_reduction() == pytest.approx(0.0, abs=1e-14)


def test_step_and_wsd_reduction_piecewise_exact():
    # r = 1 on [0, 0.5), 1/2 on [0.5, 0.75), 1/4 after: mean 0.5 + 0.125 + 0.0625.
    s = bt.step_lr(1.0, 1000, [500, 750], 2.0)
    assert s.mean_ratio() == pytest.approx(0.6875, rel=RTOL)
    # WSD: stable for 80%, then linear to 0 over 20%: mean 0.8 + 0.1.
    assert bt.wsd_lr(1.0, 1000, 0.2).mean_ratio() == pytest.approx(0.9, rel=RTOL)


@pytest.mark.parametrize("q", [0.5, 0.75, 1.0])
def test_quarter_cosine_power_mean(q):
    # integral_0^1 cos(pi u / 2)^q du = Gamma((q+1)/2) / (sqrt(pi) Gamma(q/2 + 1)).
    exact = gamma_fn((q + 1) / 2) / (math.sqrt(math.pi) * gamma_fn(q / 2 + 1))
    assert bt.quarter_cosine_lr(1.0, 1e6).mean_ratio(q) == pytest.approx(exact, rel=RTOL)
    # docs/equivalence.md, "Lemma 1 and the general formula": 0.763 / 0.692 / 0.637 for q = 0.5 / 0.75 / 1.
    assert round(exact, 3) == {0.5: 0.763, 0.75: 0.692, 1.0: 0.637}[q]


# ----------------------------------------------------------------------------- values and warmup
def test_warmup_and_profile_values():
    base = bt.olmo_cosine_lr(2.0, 1000.0)  # W = 100, starts at 0.1 lr0
    assert base.warmup_samples == 100
    np.testing.assert_allclose(base([0, 50, 100]), [0.2, 1.1, 2.0], rtol=RTOL)
    np.testing.assert_allclose(base.decay_ratio([0, 50, 100]), [1.0, 1.0, 1.0], rtol=RTOL)
    # Half-way through the decay: 0.1 + 0.9 * 0.5.
    assert float(base(550.0)) == pytest.approx(2.0 * 0.55, rel=RTOL)
    assert base.final_ratio == pytest.approx(0.1, rel=RTOL)


def test_to_schedule_and_optax_export():
    base = bt.olmo_cosine_lr(1.0, 10_000.0)
    s = base.to_schedule(batch=64)
    assert s.steps == math.ceil(10_000 / 64) and s.samples >= 10_000
    np.testing.assert_allclose(s.lr, base(np.arange(s.steps) * 64.0), rtol=RTOL)
    sched = base.optax_schedule(64)
    got = np.asarray(jax.jit(jax.vmap(sched))(np.arange(s.steps)))
    np.testing.assert_allclose(got, s.lr, rtol=1e-10)


# ----------------------------------------------------------------------------- milestones
def test_half_cosine_milestones_match_the_closed_form():
    # The official repo's get_decay_tokens (docs/equivalence.md, section 2.2): theta = arccos(2 (g^-k - f)/(1 - f) - 1), t_k = W + round((S - W) theta / pi).
    S, W, f, g = 3.3e9, 3.3e8, 0.1, 1 / 1.1
    base = bt.olmo_cosine_lr(3e-3, S)
    k_max = int(math.log(f) / math.log(g))
    want = [W + round((S - W) * math.acos(2 * (g**k - f) / (1 - f) - 1) / math.pi) for k in range(1, k_max + 1)]
    np.testing.assert_array_equal(base.milestones(1.1), want)
    assert k_max == 24


def test_figure2_halving_milestones():
    # Halving cuts of the 150M schedule: about 1.92e9, 2.50e9, 2.99e9 tokens (Seesaw Figure 2's halving base).
    ms = bt.olmo_cosine_lr(3e-3, 3.3e9).milestones(2.0)
    np.testing.assert_allclose(ms, [1.92e9, 2.50e9, 2.99e9], rtol=3e-3)


def test_step_decay_milestones_and_repeated_levels():
    s = bt.step_lr(1.0, 1000, [300, 600], 2.0)
    np.testing.assert_array_equal(s.milestones(2.0), [300, 600])
    # A cut by 2 crosses two sqrt(2) levels at once: both milestones at the same sample.
    np.testing.assert_array_equal(s.milestones(math.sqrt(2)), [300, 300, 600, 600])


def test_profile_to_zero_gives_finitely_many_cuts():
    ms = bt.quarter_cosine_lr(1.0, 1e6).milestones(2.0)
    assert 5 < ms.size < 40 and np.all(np.diff(ms) >= 0) and ms[-1] < 1e6


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: bt.olmo_cosine_lr(1.0, 1e6, warmup_fraction=1.0), "warmup_fraction"),
        (lambda: bt.olmo_cosine_lr(1.0, 1e6, warmup_fraction=-0.1), "warmup_fraction"),
        (lambda: bt.half_cosine_lr(0.0, 1e6), "lr0"),
        (lambda: bt.half_cosine_lr(1.0, -5), "budget"),
        (lambda: bt.linear_lr(1.0, 1e6, final_fraction=1.5), "final_fraction"),
        (lambda: bt.exponential_lr(1.0, 1e6, final_fraction=0.0), "final_fraction"),
        (lambda: bt.step_lr(1.0, 1000, [2000]), "milestones"),
        (lambda: bt.wsd_lr(1.0, 1000, shape="sqrt"), "shape"),
        (lambda: bt.half_cosine_lr(1.0, 1e6).milestones(1.0), "cut"),
        (lambda: bt.half_cosine_lr(1.0, 100).to_schedule(101), "budget"),
        (lambda: bt.half_cosine_lr(1.0, 100).mean_ratio(-1), "q"),
        (lambda: bt.half_cosine_lr(1.0, 1e12).to_schedule(1), "materialised"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
