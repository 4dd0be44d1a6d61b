"""Problem and Schedule construction: formulas and clear errors for bad input."""

import numpy as np
import pytest

import batchramp_theory as bt


def test_power_law_problem_conventions():
    beta, s = 2.5, 0.4
    p = bt.power_law_problem(50, beta, s, noise=0.3)
    j = np.arange(1, 51)
    np.testing.assert_allclose(p.eigenvalues, j**-beta, rtol=1e-15)
    np.testing.assert_allclose(p.eigenvalues * p.target**2, j ** -(s * beta + 1), rtol=1e-13)
    assert p.initial_risk == pytest.approx(0.5 * np.sum(j ** -(s * beta + 1)), rel=1e-13)
    assert p.noise == 0.3 and p.dim == 50


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"capacity": 1.0}, "capacity"),
        ({"capacity": 0.5}, "capacity"),
        ({"dim": 0}, "dim"),
        ({"dim": 2.5}, "dim"),
        ({"source": 0.0}, "source"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
    ],
)
def test_power_law_problem_bad_input(kwargs, match):
    args = {"dim": 10, "capacity": 2.0, "source": 0.5, "noise": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        bt.power_law_problem(**args)


@pytest.mark.parametrize(
    "eig,target,noise,match",
    [
        ([1.0, 0.5], [1.0], 0.1, "target"),
        ([1.0, -0.5], [1.0, 1.0], 0.1, "eigenvalues"),
        ([1.0, np.nan], [1.0, 1.0], 0.1, "eigenvalues"),
        ([1.0, 0.5], [1.0, np.inf], 0.1, "target"),
        ([], [], 0.1, "eigenvalues"),
    ],
)
def test_problem_bad_input(eig, target, noise, match):
    with pytest.raises(ValueError, match=match):
        bt.Problem(eig, target, noise)


def test_schedule_accounting_and_concatenation():
    s = bt.constant(0.1, 4, 10) + bt.step_decay(0.2, 8, 6, milestones=[3], factor=2.0)
    assert s.steps == 16 and s.samples == 4 * 10 + 8 * 6
    np.testing.assert_allclose(s.lr[10:], [0.2, 0.2, 0.2, 0.1, 0.1, 0.1])
    np.testing.assert_array_equal(s.samples_seen[[0, 10, 16]], [0, 40, 88])
    np.testing.assert_allclose(s.intrinsic_time[-1], 1.0 + 0.9)
    assert bt.Schedule.concatenate([bt.constant(0.1, 1, 2)] * 3).steps == 6


def test_cosine_shape():
    c = bt.cosine(1.0, 2, 101, final_lr=0.1, warmup_steps=10)
    assert c.lr[0] == pytest.approx(0.1) and c.lr[10] == pytest.approx(1.0)
    assert c.lr[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * 90 / 91)))
    assert np.all(np.diff(c.lr[10:]) <= 0)


@pytest.mark.parametrize(
    "lr,batch,match",
    [
        ([0.1, -0.1], [1, 1], "lr"),
        ([0.1, np.nan], [1, 1], "lr"),
        ([0.1, 0.1], [1, 0], "batch"),
        ([0.1, 0.1], [1, 1.5], "batch"),
        ([0.1, 0.1], [1, 1, 1], "lengths"),
        ([], [], "lr"),
    ],
)
def test_schedule_bad_input(lr, batch, match):
    with pytest.raises(ValueError, match=match):
        bt.Schedule(lr, batch)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: bt.constant(0.1, 0, 5), "batch"),
        (lambda: bt.constant(-1, 1, 5), "lr"),
        (lambda: bt.constant(0.1, 1, 0), "steps"),
        (lambda: bt.cosine(0.1, 1, 5, warmup_steps=5), "warmup_steps"),
        (lambda: bt.Momentum(1.0), "momentum"),
        (lambda: bt.NormalizedSGD("l2"), "normalizer"),
        (lambda: bt.Adam(b2=1.5), "b2"),
    ],
)
def test_constructor_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_variance_normalizer_needs_noise():
    p = bt.power_law_problem(10, 2.0, 0.5, noise=0.0)
    with pytest.raises(ValueError, match="noise"):
        bt.expected_risk(p, bt.constant(0.1, 2, 5), bt.NormalizedSGD("variance"))


def test_record_steps_out_of_range():
    p = bt.power_law_problem(10, 2.0, 0.5)
    with pytest.raises(ValueError, match="record_steps"):
        bt.expected_risk(p, bt.constant(0.1, 2, 5), record_steps=[6])
