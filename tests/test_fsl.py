"""FSL calculator: O(K x modes) scans against direct O(K^2) sums, the Volterra series, calibration."""

import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory import fsl


def _schedules(k=120):
    return [
        bt.cosine(0.3, 2, k, final_lr=0.03),
        fsl.wsd(0.3, 3, k, decay_fraction=0.3),
        fsl.cyclic(0.2, 1, k, period=40, min_lr=0.02),
        fsl.two_stage(0.25, 1, 8, k // 2, k - k // 2),
    ]


def _direct_power_law(sched, s, beta, sigma, tau_e=1.0, tau_k=1.0, weight="lr^2/B"):
    """O(K^2) reference: noise_k = sum_{i<k} w_i K(T_k - T_{i+1}) source_i with the exact kernel."""
    lr, b = np.asarray(sched.lr), np.asarray(sched.batch, float)
    t = sched.intrinsic_time
    e = (1 + t / tau_e) ** -s
    w = lr**2 / b if weight == "lr^2/B" else lr / b
    p = 2 - 1 / beta
    ns, nl = np.zeros(t.size), np.zeros(t.size)
    for k in range(t.size):
        i = np.arange(k)
        ker = (1 + (t[k] - t[i + 1]) / tau_k) ** -p
        ns[k] = np.sum(w[i] * ker * e[i])
        nl[k] = sigma**2 * np.sum(w[i] * ker)
    return e, ns, nl


def _direct_modes(problem, sched, continuous=False):
    """O(K^2 d) reference with explicit propagator products."""
    lr, b = np.asarray(sched.lr), np.asarray(sched.batch, float)
    lam, theta, sig2 = problem.eigenvalues, problem.target, float(problem.noise) ** 2
    q = np.exp(-2 * np.outer(lr, lam)) if continuous else 1 - 2 * np.outer(lr, lam) + (1 + 1 / b[:, None]) * np.outer(lr, lam) ** 2
    kk = lr.size
    e = np.array([0.5 * np.sum(lam * theta**2 * np.prod(q[:k], axis=0)) for k in range(kk + 1)])
    w = lr**2 / b
    ns, nl = np.zeros(kk + 1), np.zeros(kk + 1)
    for k in range(kk + 1):
        for i in range(k):
            ker = np.sum(lam**2 * np.prod(q[i + 1:k], axis=0))
            ns[k] += w[i] * ker * e[i]
            nl[k] += w[i] * ker * 0.5 * sig2
    return e, ns, nl


@pytest.mark.parametrize("p", [0.3, 1.0, 4.0 / 3.0, 1.5, 5.0 / 3.0])
def test_soe_accuracy(p):
    k = fsl.power_law_soe(p, t_max=1e5, rtol=1e-12)
    t = np.concatenate([[0.0], np.geomspace(1e-5, 1e5, 3001)])
    assert k.max_rel_error <= 1e-12
    np.testing.assert_allclose(k(t), (1 + t) ** -p, rtol=2e-12)
    assert k.weights.size % 64 == 0 and np.all(k.weights >= 0)


@pytest.mark.parametrize("idx", range(4))
def test_power_law_scan_equals_direct_sum(idx):
    sched = _schedules()[idx]
    got = fsl.power_law_fsl(sched, source=0.4, capacity=2.5, noise=0.7, time_scales=(0.5, 0.25), rtol=1e-13)
    e, ns, nl = _direct_power_law(sched, 0.4, 2.5, 0.7, 0.5, 0.25)
    np.testing.assert_allclose(got.intrinsic_time, sched.intrinsic_time, rtol=1e-14)
    np.testing.assert_allclose(got.signal, e, rtol=1e-13)
    # SOE kernel accuracy 1e-13 (relative, uniform), every term is a positive sum: 1e-10 holds with margin.
    np.testing.assert_allclose(got.noise_signal, ns, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(got.noise_label, nl, rtol=1e-10, atol=1e-300)


def test_noise_weight_lr_over_b_is_the_wrong_weight_on_purpose():
    sched = _schedules()[0]
    got = fsl.power_law_fsl(sched, source=0.5, capacity=2.0, noise=1.0, noise_weight="lr/B", rtol=1e-13)
    _, _, nl = _direct_power_law(sched, 0.5, 2.0, 1.0, weight="lr/B")
    np.testing.assert_allclose(got.noise_label, nl, rtol=1e-10, atol=1e-300)
    right = fsl.power_law_fsl(sched, source=0.5, capacity=2.0, noise=1.0)
    assert not np.allclose(got.noise_label[1:], right.noise_label[1:], rtol=0.1)


@pytest.mark.parametrize("continuous", [False, True])
def test_mode_sum_scan_equals_direct_sum(continuous):
    p = bt.power_law_problem(12, 2.0, 0.6, noise=0.8)
    sched = _schedules(60)[3]
    got = fsl.mode_sum_fsl(p, sched, propagator="continuous" if continuous else "discrete")
    e, ns, nl = _direct_modes(p, sched, continuous)
    for a, b in [(got.signal, e), (got.noise_signal, ns), (got.noise_label, nl)]:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-300)


def test_volterra_series_converges_to_exact_recursion():
    p = bt.power_law_problem(40, 2.0, 0.5, noise=1.0)
    sched = _schedules(200)[0]
    exact = bt.expected_risk(p, sched)
    first = fsl.volterra_series(p, sched, 1)
    np.testing.assert_allclose(first, fsl.mode_sum_fsl(p, sched).risk(), rtol=1e-12)
    # The first-order truncation drops only positive terms: it lies below the exact risk.
    assert np.all(first <= exact * (1 + 1e-12))
    np.testing.assert_allclose(fsl.volterra_series(p, sched, 40), exact, rtol=1e-10)


def test_stack_equals_individual_calls():
    p = bt.power_law_problem(30, 1.5, 0.8, noise=0.5)
    scheds = [_schedules(90)[0], bt.constant(0.2, 4, 50)]
    stack_pl = fsl.power_law_fsl(scheds, source=0.8, capacity=1.5, noise=0.5)
    stack_ms = fsl.mode_sum_fsl(p, scheds)
    for i, sc in enumerate(scheds):
        one = fsl.power_law_fsl(sc, source=0.8, capacity=1.5, noise=0.5)
        np.testing.assert_allclose(stack_pl.noise_label[i, : sc.steps + 1], one.noise_label, rtol=1e-12)
        np.testing.assert_allclose(stack_ms.risk()[i, : sc.steps + 1], fsl.mode_sum_fsl(p, sc).risk(), rtol=1e-12)
    # Padding with lr = 0 freezes the FSL, like the recursion.
    assert np.all(stack_ms.risk()[1, 50:] == stack_ms.risk()[1, 50])


def test_calibrate_recovers_known_constants():
    terms = fsl.power_law_fsl(_schedules(300)[0], source=0.5, capacity=2.0, noise=1.0)
    c = fsl.FSLConstants(0.7, 2.5, 0.3)
    fit = fsl.calibrate(terms, terms.risk(c), window=(1.0, np.inf))
    np.testing.assert_allclose(fit.constants, c, rtol=1e-8)
    assert fit.max_rel_error < 1e-10
    two = fsl.calibrate(terms, terms.risk(c), window=(1.0, np.inf), include_noise_signal=False)
    assert two.constants.noise_signal == 0.0


def test_calibration_transfers_across_schedules():
    """Constants fitted on 8-1-1 predict cosine, WSD, cyclic and two-stage risk (hard task, small lr/B)."""
    lr, batch, k = 0.1, 4, 1000
    p = bt.power_law_problem(4096, 2.0, 0.3, noise=1.0)
    cal = bt.step_decay(lr, batch, k, [800, 900], factor=np.sqrt(10.0))
    others = [bt.cosine(lr, batch, k, final_lr=0.1 * lr), fsl.wsd(lr, batch, k), fsl.cyclic(lr, batch, k, period=250, min_lr=0.01),
              fsl.two_stage(lr, batch, 4 * batch, 500, 500)]
    ex = bt.expected_risk(p, [cal] + others)
    fit = fsl.calibrate_power_law(cal, ex[0], source=0.3, capacity=2.0, noise=1.0, window=(10.0, np.inf), time_scales=(1 / 64, 1 / 16, 1 / 4, 1.0))
    pred = fit.predict(others)
    for i, sc in enumerate(others):
        assert fsl.relative_error(pred[i], ex[i + 1], sc.intrinsic_time, (10.0, np.inf)) < 0.05
    # Negative control: the lr/B weight, calibrated the same way, does not transfer.
    bad = fsl.calibrate_power_law(cal, ex[0], source=0.3, capacity=2.0, noise=1.0, noise_weight="lr/B", time_scales=(1 / 64, 1 / 16, 1 / 4, 1.0))
    pb = bad.predict(others, noise_weight="lr/B")
    assert max(fsl.relative_error(pb[i], ex[i + 1], sc.intrinsic_time, (10.0, np.inf)) for i, sc in enumerate(others)) > 0.05


def test_fsl_schedules():
    w = fsl.wsd(1.0, 2, 100, decay_fraction=0.2)
    assert np.all(w.lr[:80] == 1.0) and np.isclose(w.lr[-1], 0.01) and np.all(np.diff(w.lr[80:]) < 0)
    c = fsl.cyclic(1.0, 1, 100, period=50, min_lr=0.1)
    assert np.isclose(c.lr[0], 1.0) and np.isclose(c.lr[25], 0.1) and np.isclose(c.lr[50], 1.0)
    t = fsl.two_stage(0.5, 2, 16, 10, 5)
    assert t.samples == 2 * 10 + 16 * 5 and t.steps == 15


def test_bad_input():
    s = bt.constant(0.1, 2, 10)
    p = bt.power_law_problem(10, 2.0, 0.5)
    with pytest.raises(ValueError, match="source"):
        fsl.power_law_fsl(s, source=0.0, capacity=2.0, noise=1.0)
    with pytest.raises(ValueError, match="capacity"):
        fsl.power_law_fsl(s, source=0.5, capacity=1.0, noise=1.0)
    with pytest.raises(ValueError, match="time_scales"):
        fsl.power_law_fsl(s, source=0.5, capacity=2.0, noise=1.0, time_scales=(1.0, -1.0))
    with pytest.raises(ValueError, match="noise_weight"):
        fsl.power_law_fsl(s, source=0.5, capacity=2.0, noise=1.0, noise_weight="lr")
    with pytest.raises(ValueError, match="propagator"):
        fsl.mode_sum_fsl(p, s, propagator="euler")
    with pytest.raises(ValueError, match="problem"):
        fsl.mode_sum_fsl("p", s)
    with pytest.raises(ValueError, match="order"):
        fsl.volterra_series(p, s, 0)
    terms = fsl.mode_sum_fsl(p, s)
    with pytest.raises(ValueError, match="window"):
        fsl.calibrate(terms, bt.expected_risk(p, s), window=(100.0, 200.0))
    with pytest.raises(ValueError, match="shape"):
        fsl.relative_error(np.ones(3), np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="exponent"):
        fsl.power_law_soe(-1.0, 10.0)
    with pytest.raises(ValueError, match="decay_fraction"):
        fsl.wsd(0.1, 1, 10, decay_fraction=1.5)
    with pytest.raises(ValueError, match="period"):
        fsl.cyclic(0.1, 1, 10, period=1)
    with pytest.raises(ValueError, match="single Schedule"):
        fsl.calibrate_power_law([s], np.ones(11), source=0.5, capacity=2.0, noise=1.0)


def test_power_law_grid_matches_single_pairs():
    """One vmapped scan over (tau_e, tau_K) pairs gives the terms of power_law_fsl for each pair."""
    from batchramp_theory.fsl import calculator

    sched = _schedules()[2]
    pairs = np.array([(0.25, 1.0), (1.0, 0.125), (2.0, 4.0)])
    grid = calculator.power_law_fsl_grid(sched, pairs, source=0.4, capacity=2.0, noise=0.7)
    assert grid.signal.shape == (3, sched.steps + 1)
    for i, (te, tk) in enumerate(pairs):
        one = fsl.power_law_fsl(sched, source=0.4, capacity=2.0, noise=0.7, time_scales=(te, tk))
        for a, b in zip(grid[:4], one[:4]):
            np.testing.assert_allclose(a[i], b, rtol=1e-10, atol=1e-300)
    with pytest.raises(ValueError, match="time_scales"):
        calculator.power_law_fsl_grid(sched, [1.0, 2.0], source=0.4, capacity=2.0, noise=0.7)


def test_discrete_propagator_is_the_sgd_factor():
    from batchramp_theory.fsl.kernels import mode_propagator
    from batchramp_theory.moments import sgd_factor

    lam = np.array([1.0, 0.25, 1e-3])
    q = np.asarray(mode_propagator(lam, continuous=False)(0.3, 4.0))
    np.testing.assert_array_equal(q, np.asarray(sgd_factor(0.3, lam, 4.0)))
    np.testing.assert_allclose(q, (1 - 0.3 * lam) ** 2 + 0.3**2 * lam**2 / 4.0, rtol=1e-14)


def test_names_importable_from_old_module_paths():
    """The split kept every public name where it was: bt.fsl.*, fsl.calculator, fsl.optimal."""
    from batchramp_theory import batch_schedule_search as bss
    from batchramp_theory.fsl import calculator, calibration, kernels, optimal

    for name in ("SumOfExponentials", "power_law_soe", "noise_weights"):
        assert getattr(calculator, name) is getattr(kernels, name) is getattr(fsl, name)
    for name in ("FSLFit", "PowerLawFit", "calibrate", "calibrate_power_law", "relative_error", "DEFAULT_TIME_SCALES"):
        assert getattr(calculator, name) is getattr(calibration, name)
    for name in ("numerical_optimal_batch", "NumericalOptimum", "round_batches", "schedule_from_batches"):
        assert getattr(optimal, name) is getattr(bss, name) is getattr(fsl, name)
    with pytest.raises(AttributeError):
        calculator.no_such_name  # noqa: B018
