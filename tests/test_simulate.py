"""Monte Carlo simulator: agreement with the exact recursions, determinism, compile-once, divergence."""

import jax
import numpy as np
import pytest

import batchramp_theory as bt
from helpers import max_abs_z

P = bt.power_law_problem(48, capacity=2.0, source=0.5, noise=0.5)
REC = np.unique(np.geomspace(1, 300, 15).astype(int))
RUNS = 300
# Monte Carlo vs exact: the max over 15 recorded steps of |z| exceeds 5 with probability
# ~1e-5 under correct code; seeds are fixed, so a failure is a real fault.
K_SE = 5.0


def _ramp(lr):
    # variable batch: 1 -> 4 -> 32 at constant lr
    return bt.constant(lr, 1, 100) + bt.constant(lr, 4, 100) + bt.constant(lr, 32, 100)


@pytest.mark.parametrize(
    "opt,lr",
    [(bt.SGD(), 0.5), (bt.Momentum(0.6), 0.15), (bt.NormalizedSGD("expected"), 0.08), (bt.NormalizedSGD("variance"), 0.08)],
)
def test_monte_carlo_matches_recursion(opt, lr):
    sched = _ramp(lr)
    exact = bt.expected_risk(P, sched, opt, record_steps=REC)
    mc = bt.simulate(P, sched, opt, num_runs=RUNS, seed=11, record_steps=REC)
    assert max_abs_z(mc, exact) < K_SE


def test_explicit_sampler_agrees_with_recursion():
    sched = bt.constant(0.4, 3, 60) + bt.constant(0.4, 9, 60)
    rec = [1, 5, 20, 60, 90, 120]
    mc = bt.simulate(P, sched, num_runs=RUNS, seed=5, record_steps=rec, sampler="explicit")
    assert max_abs_z(mc, bt.expected_risk(P, sched, record_steps=rec)) < K_SE


def test_negative_control_rademacher_features_break_the_gaussian_recursion():
    # Rademacher x has E[x^4] = lambda^2 instead of 3 lambda^2 (Seesaw pitfall P9): the
    # Gaussian recursion must NOT describe it. At B = 1 and large lr the gap is many SE.
    p = bt.power_law_problem(8, 2.0, 0.5, noise=0.1)
    sched = bt.constant(0.8, 1, 40)
    rec = [10, 20, 40]
    mc = bt.simulate(p, sched, num_runs=2000, seed=1, record_steps=rec, sampler="explicit", features="rademacher")
    assert max_abs_z(mc, bt.expected_risk(p, sched, record_steps=rec)) > 10


def test_same_seed_same_bits_and_seed_matters():
    sched = bt.constant(0.3, 4, 50)
    a = bt.simulate(P, sched, num_runs=4, seed=123)
    b = bt.simulate(P, sched, num_runs=4, seed=123)
    c = bt.simulate(P, sched, num_runs=4, seed=124)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(a, bt.simulate(P, sched, num_runs=4, seed=jax.random.key(123)))


@pytest.mark.slow  # the default suite has the bit-exact version (test_perf_sampler)
def test_chunking_does_not_change_results():
    sched = bt.constant(0.3, 4, 50) + bt.constant(0.3, 8, 23)
    a = bt.simulate(P, sched, num_runs=3, seed=9)
    b = bt.simulate(P, sched, num_runs=3, seed=9, chunk_size=7)
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.slow  # the default suite checks common random numbers in test_perf_sampler
def test_stack_uses_common_random_numbers():
    # A run's first steps do not depend on the rest of the schedule, and stacked schedules
    # share run keys: identical prefixes give identical risks.
    s1 = bt.constant(0.3, 4, 30) + bt.constant(0.3, 8, 30)
    s2 = bt.constant(0.3, 4, 30) + bt.constant(0.1, 4, 50)
    out = bt.simulate(P, [s1, s2], num_runs=5, seed=2)
    assert out.shape == (2, 5, 81)
    np.testing.assert_array_equal(out[0, :, :31], out[1, :, :31])
    # a different stack size compiles a different program: equal up to float64 rounding
    np.testing.assert_allclose(out[0, :, :61], bt.simulate(P, s1, num_runs=5, seed=2), rtol=1e-13)


def test_compiles_once_for_repeated_shapes():
    from batchramp_theory.simulate import _chunk

    sched = bt.constant(0.3, 4, 40)
    bt.simulate(P, sched, num_runs=3, seed=0)
    n = _chunk._cache_size()
    for seed, lr, b in [(1, 0.1, 2), (2, 0.2, 64), (3, 0.05, 1)]:
        bt.simulate(P, bt.constant(lr, b, 40), num_runs=3, seed=seed)
    assert _chunk._cache_size() == n


@pytest.mark.parametrize("opt", [bt.Adam(), bt.SignSGD(), bt.NormalizedSGD("sample"), bt.NormalizedSGD("conditional")])
def test_monte_carlo_only_optimizers_learn(opt):
    # No recursion exists; check they train: mean risk after 200 steps well below the start
    # and below what a 10x smaller learning rate reaches.
    p = bt.power_law_problem(32, 2.0, 1.0, noise=0.1)
    mean = lambda lr: bt.simulate(p, bt.constant(lr, 16, 200), opt, num_runs=20, seed=0)[:, -1].mean()
    good = mean(0.02)
    assert good < 0.2 * p.initial_risk
    assert good < mean(0.002)


@pytest.mark.slow
def test_conditional_normalizer_matches_expected_when_variance_dominated():
    # With large noise the normaliser is dominated by sigma^2 tr H / B, so the iterate-wise
    # (conditional) and deterministic (expected) normalisers give the same mean risk.
    p = bt.power_law_problem(32, 2.0, 1.0, noise=3.0)
    sched = bt.constant(0.05, 4, 200)
    rec = [50, 100, 200]
    mc = bt.simulate(p, sched, bt.NormalizedSGD("conditional"), num_runs=400, seed=3, record_steps=rec)
    exact = bt.expected_risk(p, sched, bt.NormalizedSGD("expected"), record_steps=rec)
    np.testing.assert_allclose(mc.mean(0), exact, rtol=0.05)  # 5%: model gap + ~1% SE


def test_divergence_is_reported_with_step():
    p = bt.power_law_problem(32, 2.0, 0.5, noise=0.5)
    lim = bt.stability_limit(p, 4)
    # mean-square instability at 1.5x the limit makes E[risk] blow up; individual runs need a
    # larger margin to blow up within 400 steps, hence 3x for the Monte Carlo part
    sched = bt.constant(3 * lim, 4, 400)
    with pytest.raises(bt.DivergenceError) as info:
        bt.simulate(p, sched, num_runs=3, seed=0)
    assert 0 < info.value.step < 400 and "step" in str(info.value)
    with pytest.warns(bt.DivergenceWarning):
        out = bt.simulate(p, sched, num_runs=3, seed=0, on_divergence="inf")
    assert np.isinf(out[:, -1]).all() and not np.isnan(out).any()
    with pytest.raises(bt.DivergenceError) as info2:
        bt.expected_risk(p, sched)
    assert 0 < info2.value.step < 400


@pytest.mark.parametrize(
    "kwargs,match",
    [({"num_runs": 0}, "num_runs"), ({"seed": "x"}, "seed"), ({"sampler": "fast"}, "sampler"), ({"features": "rademacher"}, "explicit")],
)
def test_bad_arguments(kwargs, match):
    args = {"num_runs": 2, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        bt.simulate(P, bt.constant(0.1, 2, 5), **args)


def test_float32_in_float32_out():
    """The dtype the caller computes in is the dtype that comes out (float32 without x64)."""
    with jax.enable_x64(False):
        out = bt.simulate(P, bt.constant(0.3, 4, 20), num_runs=2, seed=0, record_steps=[20])
        ex = bt.expected_risk(P, bt.constant(0.3, 4, 20))
        ex_stack = bt.expected_risk(P, [bt.constant(0.3, 4, 20), bt.constant(0.2, 2, 10)])
        m = bt.second_moments(P, bt.constant(0.3, 4, 20))
        nsgd = bt.simulate(P, bt.constant(0.1, 4, 20), bt.NormalizedSGD("expected"), num_runs=2, seed=0)
    for a in (out, ex, ex_stack, m, nsgd):
        assert a.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(ex))
    ex64 = bt.expected_risk(P, bt.constant(0.3, 4, 20))
    assert ex64.dtype == np.float64
    assert bt.simulate(P, bt.constant(0.3, 4, 20), num_runs=2, seed=0).dtype == np.float64
    # float32 recursion agrees with float64 to float32 rounding accumulated over 20 steps
    np.testing.assert_allclose(ex, ex64, rtol=1e-5)
