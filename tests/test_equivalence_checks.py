"""The equivalence check groups: every check agrees with theory and every negative control fails.

Runs each group once in quick mode (about 40 s on 2 cores: three Monte Carlo groups dominate).
"""

import math

import pytest

from batchramp_theory.checks import registered

from .helpers import LazyCheckResults, assert_group_agrees

# The three Monte Carlo groups (sample, conditional, adam) take most of the time: they run in
# the slow suite here and in every `batchramp check`.
_MC = pytest.mark.slow
GROUPS = [
    "sgd.equivalence",
    "nsgd.equivalence.expected",
    "nsgd.equivalence.variance",
    pytest.param("nsgd.equivalence.sample", marks=_MC),
    pytest.param("nsgd.equivalence.conditional", marks=_MC),
    pytest.param("nsgd.equivalence.adam", marks=_MC),
    "smith",
    "seesaw.critical_batch",
]


@pytest.fixture(scope="module")
def results():
    return LazyCheckResults()


NAMES = [g.values[0] if hasattr(g, "values") else g for g in GROUPS]


def test_groups_registered():
    assert set(NAMES) <= set(registered())


@pytest.mark.parametrize("group", GROUPS)
def test_group_agrees_with_theory(results, group):
    assert_group_agrees(results, group, group.split(".")[0])


@pytest.mark.parametrize("group", GROUPS)
def test_each_group_has_a_failing_negative_control(results, group):
    controls = [r for r in results[group] if r.expected == "fail"]
    assert controls, f"{group} has no negative control"
    assert all(not r.passed for r in controls)
    assert any(r.expected == "pass" and r.passed for r in results[group])


@pytest.mark.slow  # needs the Monte Carlo groups too
def test_named_negative_controls(results):
    by_name = {r.name: r for g in NAMES for r in results[g]}
    # The SGD rule (1, 2) applied to NSGD fails for every normaliser and Adam.
    for n in ("expected", "variance", "sample", "conditional", "adam"):
        assert not by_name[f"nsgd.equivalence.{n}.sgd_rule"].passed
    # alpha < sqrt(beta): deviates with the exact normaliser, diverges in the reduced model.
    dev = by_name["nsgd.equivalence.expected.alpha_lt_sqrt_beta"]
    assert dev.expected == "fail" and math.isfinite(dev.statistic) and dev.statistic > dev.bound
    div = by_name["nsgd.equivalence.variance.alpha_lt_sqrt_beta"]
    assert div.expected == "fail" and div.statistic == math.inf
    # Mismatched products on the SGD line.
    assert not by_name["sgd.equivalence.mismatched_product"].passed
    assert not by_name["sgd.equivalence.lr_range.mismatched_product"].passed
    # Theorem 1's regime is covered by the measured lr range.
    assert by_name["sgd.equivalence.lr_range"].statistic >= 0.01
