"""Fast catch-up: the gap shape G(Delta), the sudden drop, catch-up times, from the exact recursion."""

import numpy as np
import pytest
from helpers import RTOL_EXACT, diag_sgd_risk

import batchramp_theory as bt
from batchramp_theory import fsl


def test_shape_and_half_life():
    d = np.array([0.0, 1.0, 10.0])
    np.testing.assert_allclose(fsl.catchup_shape(d, 100.0, 2.0), (1 + d) ** -0.5 - (101 + d) ** -0.5, rtol=1e-15)
    assert fsl.half_life(2.0) == pytest.approx(3.0)
    # For tau0 -> inf, half the excess is left at the half-life.
    h = fsl.half_life(3.0)
    assert fsl.catchup_shape(h, 1e30, 3.0) / fsl.catchup_shape(0.0, 1e30, 3.0) == pytest.approx(0.5, rel=1e-12)


def test_catchup_exact_curves():
    p = bt.power_law_problem(100, 2.0, 0.3, noise=1.0)
    c = fsl.catchup(p, lr=0.3, batch1=1, batch2=8, switch_step=1000, steps_after=1000)
    assert c.tau0 == pytest.approx(300.0)
    # The three runs from an independent per-mode NumPy recursion (tests/helpers.py): B1 for 1000
    # steps then B2, constant B1, constant B2; read at steps 1000..1999.
    lam, theta = p.eigenvalues, p.target
    sw = diag_sgd_risk(lam, theta, 1.0, 0.3, np.r_[np.ones(1000), np.full(1000, 8)])[1000:2000]
    sm = diag_sgd_risk(lam, theta, 1.0, 0.3, np.ones(2000))[1000:2000]
    lg = diag_sgd_risk(lam, theta, 1.0, 0.3, np.full(2000, 8))[1000:2000]
    for got, ref in ((c.switched, sw), (c.small, sm), (c.large, lg)):
        np.testing.assert_allclose(got, ref, rtol=RTOL_EXACT)
    # The gap is a difference of risks ~10x larger than itself: 1e-10 of the risks, relative to the gap.
    np.testing.assert_allclose(c.gap, sw - lg, rtol=0, atol=RTOL_EXACT * sm.max())
    assert c.gap0 == pytest.approx(sm[0] - lg[0], rel=1e-8)  # at the switch the excess is small - large
    assert c.gap[0] == pytest.approx(c.gap0, rel=1e-8)  # before the first large-batch step nothing changed
    np.testing.assert_allclose(c.delta, 0.3 * np.arange(1000), rtol=1e-15)
    np.testing.assert_allclose(c.shape, (1 + c.delta) ** -0.5 - (301 + c.delta) ** -0.5, rtol=1e-12)  # G at beta = 2
    assert np.all(np.diff(c.gap) < 0) and np.all(c.gap > 0)  # monotone merge from above
    assert c.flatness((30.0, 300.0)) < 0.05  # gap / G(Delta) is flat (docs/fsl.md, 'Fast catch-up')
    assert 1 - c.remaining(1.0) > 0.5  # sudden drop
    assert fsl.catchup_time(c.delta, c.gap, c.large, 0.5) < fsl.catchup_time(c.delta, c.gap, c.large, 0.1)


def test_catchup_time_and_fsl_gap():
    d = np.linspace(0, 10, 11)
    assert fsl.catchup_time(d, 10 - d, np.ones(11), 0.5) == pytest.approx(10.0)
    assert fsl.catchup_time(d, 11 - d, np.ones(11), 0.5) == np.inf
    g = fsl.catchup_fsl_gap(d, tau0=50.0, capacity=2.0, lr=0.5, noise=1.0, batch1=1, batch2=4)
    # (eta sigma^2 / (1 - 1/beta)) (1/B1 - 1/B2) G(Delta), G = (1 + Delta)^-a - (1 + tau0 + Delta)^-a, a = 1/2
    np.testing.assert_allclose(g, 0.5 / 0.5 * 0.75 * ((1 + d) ** -0.5 - (51 + d) ** -0.5), rtol=1e-14)


def test_fsl_catchup_time_matches_its_definition():
    pb = fsl.batch_problem(source=0.3, capacity=2.0, budget=1e6)
    dt = fsl.fsl_catchup_time(pb, 1.0, 8.0, 5e5, 0.1)
    tau0 = 5e5
    a = 0.5

    def excess(x):
        gap = pb.lr * pb.noise**2 / a * (1 - 1 / 8) * ((1 + x) ** -a - (1 + tau0 + x) ** -a)
        large = (1 + tau0 + x) ** -0.3 + pb.lr / (a * 8) * (1 - (1 + tau0 + x) ** -a)
        return gap - 0.1 * large

    assert excess(dt * (1 - 1e-6)) > 0 >= excess(dt)
    assert np.isnan(fsl.fsl_catchup_time(pb, 1.0, 8.0, 0.0, 0.1))


def test_bad_input():
    p = bt.power_law_problem(10, 2.0, 0.3)
    with pytest.raises(ValueError, match="batch2"):
        fsl.catchup(p, lr=0.1, batch1=1, batch2=0, switch_step=10, steps_after=10)
    with pytest.raises(ValueError, match="eps"):
        fsl.catchup_time([0.0], [1.0], [1.0], 0.0)
    with pytest.raises(ValueError, match="fraction"):
        fsl.half_life(2.0, 1.5)
    with pytest.raises(ValueError, match="power_law_problem"):
        fsl.catchup(bt.Problem([0.5, 0.2], [1.0, 1.0], 1.0), lr=0.1, batch1=1, batch2=2, switch_step=5, steps_after=5)
