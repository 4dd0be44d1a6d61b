"""The stability limit is where the exact recursion stops being bounded."""

import numpy as np
import pytest

import batchramp_theory as bt

P = bt.power_law_problem(40, 1.5, 0.5, noise=0.5)


def _grows(p, lr, batch, opt, steps=4000):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bt.expected_risk(p, bt.constant(lr, batch, steps), opt, on_divergence="inf")
    # unbounded: still growing geometrically at the end (or already flagged inf)
    return bool(np.isinf(r[-1]) or r[-1] > 10 * r[steps // 2])


@pytest.mark.parametrize("batch", [1, 8, 256])
@pytest.mark.parametrize("opt", [bt.SGD(), bt.Momentum(0.5), bt.Momentum(0.9)])
def test_limit_separates_bounded_from_growing(opt, batch):
    lim = bt.stability_limit(P, batch, opt)
    assert bt.is_stable(P, 0.98 * lim, batch, opt) and not bt.is_stable(P, 1.02 * lim, batch, opt)
    # the criterion agrees with the recursion's actual behaviour on both sides (2% margin:
    # the growth rate at 1.02x the limit is slow but visible over 4000 steps)
    assert not _grows(P, 0.98 * lim, batch, opt)
    assert _grows(P, 1.02 * lim, batch, opt)


def test_sgd_limit_tends_to_gd_limit_at_large_batch():
    # B -> infinity: mean-square stability reduces to lr < 2 / lambda_max
    assert bt.stability_limit(P, 1e9) == pytest.approx(2 / P.eigenvalues.max(), rel=1e-6)


def test_nsgd_variance_limit_maps_through_effective_lr():
    b = 16
    lim = bt.stability_limit(P, b, bt.NormalizedSGD("variance"))
    eff = lim * np.sqrt(b) / (P.noise * np.sqrt(P.eigenvalues.sum()))
    assert eff == pytest.approx(bt.stability_limit(P, b), rel=1e-12)


def test_no_limit_for_bounded_updates():
    for opt in (bt.Adam(), bt.SignSGD(), bt.NormalizedSGD("sample")):
        with pytest.raises(ValueError, match="stability"):
            bt.stability_limit(P, 4, opt)
