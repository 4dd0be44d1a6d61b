"""The planner check groups ``plan.*``: every check agrees with theory and every group has a failing
negative control; the single-mode closed forms against the exact recursion.

Runs each group once in quick mode (about 45 s on 2 shared cores, mostly the planner's compiles).
"""


import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory.checks import registered
from batchramp_theory.checks.plan import front_samples, law_fit
from batchramp_theory.verify.predictions import single_mode_constant_moment, single_mode_greedy

from .helpers import LazyCheckResults, assert_group_agrees

GROUPS = ["plan.fsl_batch", "plan.fsl_lr", "plan.ramps_above_front", "plan.mccandlish_constant", "plan.single_mode"]


@pytest.fixture(scope="module")
def results():
    return LazyCheckResults()


def test_groups_registered():
    assert set(GROUPS) == {g for g in registered() if g.startswith("plan.")}


@pytest.mark.parametrize("group", GROUPS)
def test_group_agrees_with_theory(results, group):
    assert_group_agrees(results, group, group + ".")


@pytest.mark.parametrize("group", GROUPS)
def test_each_group_has_a_failing_negative_control(results, group):
    controls = [r for r in results[group] if r.expected == "fail"]
    assert any(".negative." in r.name for r in controls), f"{group} has no negative control"
    assert all(not r.passed for r in controls)
    assert any(r.expected == "pass" and r.passed for r in results[group])


def test_planner_wins_are_reported(results):
    by_name = {r.name: r for g in ("plan.fsl_batch", "plan.fsl_lr") for r in results[g]}
    # Where the planner beats a closed form (statistic < 0), the reason states the margin.
    wins = [r for r in by_name.values() if ".vs_" in r.name and r.statistic < 0]
    assert wins and all("planner beats" in r.reason for r in wins)


# Exact closed forms: agreement to rounding (1e-12 relative over 300 steps of products of O(1) factors).
_EXACT = 1e-12


@pytest.mark.parametrize("m0, noise, batch", [(4.0, 1.0, 4), (0.3, 0.5, 1), (10.0, 2.0, 32)])
def test_single_mode_greedy_matches_recursion(m0, noise, batch):
    steps = 300
    lr, m = single_mode_greedy(m0, batch, noise, steps)
    p = bt.Problem.from_spectrum([1.0], [m0], noise=noise)
    exact = np.asarray(bt.expected_risk(p, bt.Schedule(lr, np.full(steps, batch))))
    assert np.max(np.abs(0.5 * m / exact - 1)) < _EXACT
    # The greedy step is the one-step minimiser: perturbing any step's LR raises the final risk.
    for k, f in [(0, 1.05), (steps // 2, 0.95), (steps - 1, 1.1)]:
        lr2 = lr.copy()
        lr2[k] *= f
        assert float(bt.expected_risk(p, bt.Schedule(lr2, np.full(steps, batch)))[-1]) > exact[-1]


@pytest.mark.parametrize("eta", [1e-3, 0.02, 0.5, 1.2])
def test_single_mode_constant_matches_recursion(eta):
    m0, noise, batch, steps = 4.0, 1.0, 4, 250
    p = bt.Problem.from_spectrum([1.0], [m0], noise=noise)
    exact = float(bt.expected_risk(p, bt.constant(eta, batch, steps))[-1])
    assert abs(0.5 * float(single_mode_constant_moment(eta, steps, m0, batch, noise)) / exact - 1) < _EXACT


def test_single_mode_constant_at_q_one():
    # eta = 0: q = 1, nothing moves (the geometric sum's K-term limit).
    assert float(single_mode_constant_moment(0.0, 10, 2.0, 4, 1.0)) == 2.0


def test_front_interpolation_is_log_linear():
    class _Front:  # the two fields front_samples reads
        steps = np.array([100, 400])
        samples = np.array([4000, 1000])

    assert front_samples(_Front, 100) == pytest.approx(4000)
    assert front_samples(_Front, 200) == pytest.approx(2000)  # halfway in log K: geometric mean


def test_law_fit_recovers_mccandlish_and_rejects_a_wrong_exponent():
    b = 2.0 ** np.arange(8)
    s = 10 * (1 + 20 / b)  # exactly McCandlish's law, S_min = 10, B_crit = 20
    assert law_fit(b, s, 1.0) < 1e-6
    assert bt.fit_tradeoff(b, s).max_rel_residual < 1e-6
    assert law_fit(b, s, 4.0) > 0.05
