"""The planner core: its gradients, a known optimum, the front's invariants, bad inputs, one compile.

1. ``bt.moments.final_readout`` (hand-written reverse pass, traced horizon) against ``jax.grad`` of
   :func:`~batchramp_theory.moments.trajectory` and central finite differences; the planner objective
   ``solver.value_and_grad`` against finite differences in the knots and ``log N``; the
   parametrisation holds ``sum B = N`` and ``1 <= B <= B_max`` and keeps every LR below the stability
   limit at its own batch.
2. One mode with ``lambda = 1``: the constant-LR optimum in closed form and the greedy (globally optimal)
   LR schedule at a fixed batch, against :func:`bt.planner.optimal_schedule`.
3. ``bt.plan`` on a small power-law problem: the front's invariants, exactly re-evaluated.
4. Bad inputs: clear errors.
5. The descent compiles once per problem shape, whatever the horizon.

Finite differences are central, ``(f(x + h) - f(x - h)) / 2h``: truncation error ``~ h^2 f''' / 6``,
rounding ``~ eps |f| / h`` (eps = 2.2e-16). With ``h = 1e-5`` (relative for LRs and batches, absolute
for O(1) logits and ``log N``) both are ~1e-10 relative, so a 1e-6 tolerance catches any wrong
chain-rule term (those are O(1) relative) with 4 orders of margin; measured agreement is 1e-9..1e-8.
"""

import re
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import batchramp_theory as bt
from batchramp_theory.moments import final_readout, mode_arrays, trajectory
from batchramp_theory.planner import (
    Knots,
    batch_schedule,
    lr_limit_table,
    make_point_solver,
    optimal_schedule,
    pareto_mask,
)
from batchramp_theory.planner.parametrization import budget_shift, knot_values, tie_matrix

from .helpers import RTOL_EXACT

# Central differences at h = 1e-5 agree to ~1e-8 (module docstring); 1e-6 leaves 100x margin.
RTOL_FD = 1e-6
H_FD = 1e-5

P30 = bt.power_law_problem(30, 2.0, 0.5, noise=0.5)


def _central(f, x, h):
    """Central differences of the scalar ``f`` at every coordinate of the 1-d array ``x`` (steps ``h``)."""
    out = np.zeros(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h[i] if np.ndim(h) else h
        out[i] = (f(x + e) - f(x - e)) / (2 * e[i])
    return out


# ----------------------------------------------------------------------------------------------
# 1a. final_readout: custom VJP against autodiff of the scan and against finite differences
# ----------------------------------------------------------------------------------------------

L, SEG = 64, 16  # array length (a multiple of the segment) and segment: 4 segments


@pytest.mark.parametrize("opt", [bt.SGD(), bt.Momentum(0.9), bt.NormalizedSGD("expected")], ids=repr)
def test_final_readout_gradient(opt):
    """d E_K / d lr_k and d E_K / d B_k: custom VJP == jax.grad(trajectory) (1e-12) == central FD (1e-6).

    A non-constant schedule (cosine-shaped LR at 25-45% of the B=2 limit, a growing, wiggling float
    batch). ``steps`` is traced (one compile serves both horizons); ``steps = 40 < L`` ends
    mid-segment: entries ``k >= steps`` do not act, so their gradient is exactly zero.
    """
    modes, rec = mode_arrays(P30), opt.recursion("risk")
    k = np.arange(L)
    batch = 2.0 + 6.0 * (k / L) ** 1.5 + 0.3 * np.sin(k)
    lr = bt.stability_limit(P30, 2.0, opt) * (0.25 + 0.2 * np.cos(np.pi * k / L))
    f = jax.jit(lambda a, b, s: final_readout(rec, modes, a, b, s, segment=SEG))
    grad = jax.jit(jax.grad(lambda a, b, s: final_readout(rec, modes, a, b, s, segment=SEG), argnums=(0, 1)))
    for steps in (40, L):
        s = jnp.asarray(steps, jnp.int32)
        g_lr, g_b = (np.asarray(g) for g in grad(jnp.asarray(lr), jnp.asarray(batch), s))

        # Autodiff through the plain scan over the first `steps` entries: the same chain rule, so
        # agreement is at rounding level (measured ~1e-15); 1e-12 allows a different summation order.
        ref = jax.jit(jax.value_and_grad(lambda a, b: trajectory(rec, modes, a[:steps], b[:steps])[-1], argnums=(0, 1)))
        r_val, (r_lr, r_b) = ref(jnp.asarray(lr), jnp.asarray(batch))
        assert float(f(jnp.asarray(lr), jnp.asarray(batch), s)) == pytest.approx(float(r_val), rel=1e-13)
        np.testing.assert_allclose(g_lr[:steps], r_lr[:steps], rtol=1e-12, atol=1e-12 * np.abs(r_lr).max())
        np.testing.assert_allclose(g_b[:steps], r_b[:steps], rtol=1e-12, atol=1e-12 * np.abs(r_b).max())
        assert np.all(g_lr[steps:] == 0) and np.all(g_b[steps:] == 0)

        fd_lr = _central(lambda a: float(f(jnp.asarray(a), jnp.asarray(batch), s)), lr, H_FD * lr)
        fd_b = _central(lambda b: float(f(jnp.asarray(lr), jnp.asarray(b), s)), batch, H_FD * batch)
        for fd, g in ((fd_lr, g_lr), (fd_b, g_b)):
            # atol: a component crossing zero has no meaningful relative error; scale it by the largest.
            np.testing.assert_allclose(g, fd, rtol=RTOL_FD, atol=RTOL_FD * np.abs(g).max())
            assert np.abs(g[:steps]).min() > 0  # every active step matters (the check is not vacuous)


# ----------------------------------------------------------------------------------------------
# 1b. The planner objective and its parametrisation
# ----------------------------------------------------------------------------------------------

MB = 32.0  # batch cap of the solver tests


TRACES: list = []  # one entry per trace of CountingSGD's step


@dataclass(frozen=True)
class CountingSGD(bt.SGD):
    """SGD whose recursion step counts how often JAX traces it (a retrace of the descent traces it again)."""

    def recursion(self, form="moments"):
        rec = super().recursion(form)

        def step(*args):
            TRACES.append(1)
            return rec.step(*args)

        return rec._replace(step=step)


@pytest.fixture(scope="module")
def solver():
    """One solver (SGD, d = 30, B_max = 32, arrays of length 128) shared by the objective and compile tests."""
    table = lr_limit_table(P30, bt.SGD(), MB)
    return make_point_solver(P30, CountingSGD(), table, length=100, max_batch=MB)


def test_objective_gradient_matches_finite_differences(solver):
    """``value_and_grad(knots, log N, K)`` == central FD in every knot logit and in ``log N`` (1e-6 relative).

    ``h = 1e-5`` on O(1) logits: measured 2e-9 (h = 1e-3: 1e-4, truncation; h = 1e-6: 2e-8,
    rounding). The budget shift ``t`` comes from 60 bisections of ``[-40 - max y, 40 - min y]``
    (width ~ 80): resolution 80 / 2^60 ~ 7e-17, below the float64 spacing of ``t`` (~2e-16), then one
    Newton step; so ``t(knots, log N)`` is exact to rounding and adds ~1e-16 / h = 1e-11 to the FD
    quotient, far below the tolerance. (With too few bisections the FD of a step function would fail.)
    """
    kn = Knots(jnp.array([0.5, -0.3, -1.0, 0.2]), jnp.array([-1.0, 0.0, 0.7, 1.5]))
    steps = jnp.asarray(70, jnp.int32)
    ls = float(np.log(70 * 6.0))
    val, (gk, gn) = solver.value_and_grad(kn, jnp.asarray(ls), steps)
    assert float(val) == pytest.approx(float(solver.log_risk(kn, jnp.asarray(ls), steps)), rel=1e-13)

    def at(x, y, n):
        return float(solver.log_risk(Knots(jnp.asarray(x), jnp.asarray(y)), jnp.asarray(n), steps))

    x, y = np.asarray(kn.x), np.asarray(kn.y)
    np.testing.assert_allclose(gk.x, _central(lambda v: at(v, y, ls), x, H_FD), rtol=RTOL_FD)
    np.testing.assert_allclose(gk.y, _central(lambda v: at(x, v, ls), y, H_FD), rtol=RTOL_FD)
    fd_n = (at(x, y, ls + H_FD) - at(x, y, ls - H_FD)) / (2 * H_FD)
    assert float(gn) == pytest.approx(fd_n, rel=RTOL_FD)
    assert float(gn) < 0  # more data at the same shape lowers the risk
    assert np.abs(np.asarray(gk.x)).min() > 1e-3 and np.abs(np.asarray(gk.y)).min() > 1e-3  # not vacuous


@pytest.mark.parametrize("n_over_k", [1.2, 6.0, 30.0])
def test_batch_schedule_holds_the_sample_count(n_over_k):
    """``sum_{k<K} B_k = N`` (1e-10 relative) and ``1 <= B_k <= B_max``, from near all-ones to near all-capped."""
    y = jnp.array([-2.0, 0.5, 3.0, -1.0, 1.0])
    steps, length = 70, 128
    n = n_over_k * steps
    b = np.asarray(batch_schedule(y, jnp.asarray(np.log(n)), jnp.asarray(steps), length, float(np.log(MB))))
    assert b[:steps].sum() == pytest.approx(n, rel=RTOL_EXACT)
    assert b.min() >= 1.0 and b.max() <= MB * (1 + 1e-12)
    assert np.all(b[steps:] == 1.0)
    assert b[:steps].max() / b[:steps].min() > 1.05  # a non-constant schedule: the shift did not saturate it
    # The shift's resolution: 60 bisections (+ one Newton step) give the same t as 200, to a few float64
    # ulps (measured 0-2 ulp; 20 bisections leave ~5e-10), so the FD of the objective sees no bisection steps.
    ys, mask = knot_values(y, steps, length), (jnp.arange(length) < steps).astype(y.dtype)
    t60, t200 = (float(budget_shift(ys, jnp.log(n), mask, np.log(MB), iterations=i)) for i in (60, 200))
    assert abs(t60 - t200) <= 4 * np.spacing(abs(t200))


def test_lr_stays_below_the_stability_limit(solver):
    """Each step's LR is below ``bt.stability_limit`` at its own batch, even at LR logits near saturation.

    The LR is ``lr_max(B) sigmoid(x)`` with ``lr_max`` interpolated log-log from 48 tabulated limits;
    ``log lr_max(log B)`` is concave (slope 1 at small B, 0 at large B), so the chords lie below it.
    At the table's geometric midpoints the interpolant is within 1% of the limit (lr_limit_table's
    claim; measured 2e-4 below) and not above it (1e-9: the limit's own root-finding tolerance is 1e-10).
    """
    kn = Knots(jnp.array([6.0, 4.0, 8.0]), jnp.array([-3.0, 0.0, 3.0]))  # sigmoid(x) = 0.98..0.9997
    steps = 90
    lr, b = (np.asarray(a) for a in solver.schedules(kn, jnp.asarray(np.log(steps * 8.0)), jnp.asarray(steps)))
    for k in (0, 30, 60, 89):
        assert lr[k] < bt.stability_limit(P30, float(b[k]))
    assert b[0] < 2 and b[89] > 16  # the steps checked span the batch range
    table = lr_limit_table(P30, bt.SGD(), MB)
    mids = 0.5 * (table.log_batch[:-1] + table.log_batch[1:])[::6]
    for lb in mids:
        ratio = np.exp(np.interp(lb, table.log_batch, table.log_lr)) / bt.stability_limit(P30, float(np.exp(lb)))
        assert 0.99 < ratio <= 1 + 1e-9


def test_descend_compiles_once_for_every_horizon(solver):
    """``descend`` traces once per problem shape: another horizon, knot count or iteration count reuses it."""
    kn = Knots(jnp.zeros(4), jnp.zeros(4))
    fixed = (jnp.asarray(0.0), jnp.asarray(False), jnp.asarray(30))  # log target (unused), track, iterations
    TRACES.clear()
    tie4 = jnp.asarray(tie_matrix(4, 4))
    out40 = solver.descend(kn, tie4, jnp.asarray(np.log(40 * 4.0)), jnp.asarray(40, jnp.int32), *fixed)
    traced = len(TRACES)
    assert traced > 0
    tie1 = jnp.asarray(tie_matrix(1, 4))  # the constant stage: same shapes, so no retrace either
    solver.descend(kn, tie1, jnp.asarray(np.log(60 * 4.0)), jnp.asarray(60, jnp.int32), jnp.asarray(0.0),
                   jnp.asarray(False), jnp.asarray(10))
    out90 = solver.descend(kn, tie4, jnp.asarray(np.log(90 * 4.0)), jnp.asarray(90, jnp.int32), *fixed)
    assert len(TRACES) == traced  # no retrace for K = 90
    if hasattr(solver.descend, "_cache_size"):
        assert solver.descend._cache_size() == 1
    assert not np.allclose(out40[2], out90[2])  # the horizons really differ


# ----------------------------------------------------------------------------------------------
# 2. A known optimum: one mode
# ----------------------------------------------------------------------------------------------

# One mode, lambda = 1, m_0 = theta^2: the SGD recursion of moments.py (m' = q m + (eta^2/B) lambda
# (S + sigma^2), q = (1 - eta)^2 + eta^2 / B, S = m) is
#     m' = (1 - eta)^2 m + eta^2 (2 m + sigma^2) / B,      risk = m / 2.
# For fixed eta this is increasing in m (coefficient (1 - eta)^2 + 2 eta^2 / B > 0), so by dynamic
# programming V_k(m) = min_eta V_{k+1}(m'(m, eta)) with V_{k+1} increasing equals
# V_{k+1}(min_eta m'(m, eta)): minimising each step (greedy) is globally optimal. The step minimiser
# (d m'/d eta = 0) is eta_k = B m_k / ((B + 2) m_k + sigma^2). A constant eta gives the geometric sum
# m_K(eta) = q^K m_0 + eta^2 sigma^2 / B (1 - q^K) / (1 - q), q = (1 - eta)^2 + 2 eta^2 / B.
THETA, SIGMA, B1, K1 = 1.0, 0.5, 4.0, 64
ONE_MODE = bt.Problem.from_spectrum([1.0], [THETA**2], noise=SIGMA)


def _constant_final_m(eta):
    q = (1 - eta) ** 2 + 2 * eta**2 / B1
    return q**K1 * THETA**2 + eta**2 * SIGMA**2 / B1 * (1 - q**K1) / (1 - q)


def _greedy():
    m, etas = THETA**2, []
    for _ in range(K1):
        eta = B1 * m / ((B1 + 2) * m + SIGMA**2)
        m = (1 - eta) ** 2 * m + eta**2 * (2 * m + SIGMA**2) / B1
        etas.append(eta)
    return np.array(etas), 0.5 * m


def test_single_mode_optima():
    """optimal_schedule at a fixed batch: the closed-form constant optimum, and the greedy lower bound."""
    limit = bt.stability_limit(ONE_MODE, B1)
    assert limit == pytest.approx(2 * B1 / (B1 + 2), rel=1e-9)  # q(eta) < 1  <=>  eta < 2B / (B + 2)
    etas, greedy = _greedy()
    # The greedy LR is below B/(B+2), half the limit, so the planner's LR (a sigmoid fraction of the
    # limit) can follow it: the cap does not bind.
    assert etas.max() < 0.5 * limit
    np.testing.assert_allclose(np.asarray(bt.expected_risk(ONE_MODE, bt.Schedule(etas, np.full(K1, B1))))[-1],
                               greedy, rtol=RTOL_EXACT)  # the closed form is the library's recursion

    best = minimize_scalar(_constant_final_m, bounds=(1e-6, limit - 1e-6), method="bounded", options={"xatol": 1e-14})
    const_risk, const_eta = 0.5 * best.fun, best.x
    # One knot = a constant LR. 300 Adam steps (150 left 1.5e-6): measured risk gap 3e-13, LR gap 3e-7.
    one = optimal_schedule(ONE_MODE, bt.SGD(), steps=K1, batch=B1, knots=(1,), iterations=300)
    assert one.risk == pytest.approx(const_risk, rel=1e-6)
    assert np.all(np.abs(one.lr / const_eta - 1) < 1e-3)
    assert one.risk > 2 * greedy  # the constant schedule is far from optimal here: the next check is not trivial

    # 32 knots (warm-started from the constant) approach the greedy optimum from above: measured 4.5e-6
    # above it ((1, 4, 16, 32) gives 4.3e-6: the rest is the piecewise-linear resolution); band 1e-4 (20x).
    many = optimal_schedule(ONE_MODE, bt.SGD(), steps=K1, batch=B1, knots=(1, 32))
    assert many.risk >= greedy * (1 - 1e-10)  # a lower bound, up to rounding
    assert many.risk <= greedy * (1 + 1e-4)
    assert np.all(many.lr < limit)
    assert np.abs(many.lr / etas - 1).max() < 0.02  # and the LR follows the greedy decay (measured 0.6%)


# ----------------------------------------------------------------------------------------------
# 3. The front
# ----------------------------------------------------------------------------------------------

P80 = bt.power_law_problem(80, 2.0, 0.5, noise=0.5)
TARGET, BUDGET, CAP = 0.05, 20_000, 256


@pytest.fixture(scope="module")
def front():
    return bt.plan(P80, target=TARGET, budget=BUDGET, max_batch=CAP, max_steps=400, points=5, iterations=80)


def test_front_invariants(front):
    """Every point reaches the target (exact re-evaluation), uses integer batches in [1, cap] summing to its
    samples within the budget, beats the best constant schedule; the front's samples fall as steps rise."""
    assert len(front.points) == 5 and np.all(np.diff(front.steps) > 0)
    for p in front.points:
        risk = float(np.asarray(bt.expected_risk(P80, p.schedule))[-1])
        assert risk == pytest.approx(p.risk, rel=RTOL_EXACT)
        assert risk <= front.target
        assert p.samples == p.batch.sum() and p.batch.dtype.kind == "i"
        assert p.batch.min() >= 1 and p.batch.max() <= CAP
        assert p.samples <= BUDGET
        assert p.samples <= p.constant_samples
        assert p.lr.shape == p.batch.shape == (p.steps,)
    on = front.on_front
    assert on.sum() >= 3  # a real trade-off, not one point
    assert np.all(np.diff(front.samples[on]) < 0)
    np.testing.assert_array_equal(on, pareto_mask(front.steps, front.samples))  # all within budget here
    # The shortest horizon needs big batches; the planned schedule saves data over the constant one there.
    assert front.points[0].batch.max() > 16 and front.points[0].saving_vs_constant > 0.5


def test_pareto_mask_by_hand():
    steps = [1, 2, 3, 4, 2, 5, 5]
    samples = [10, 8, 8, 3, 9, 3, 3]
    # (3, 8) is dominated by (2, 8); (2, 9) by (2, 8); the duplicate (5, 3), (5, 3) by (4, 3).
    np.testing.assert_array_equal(pareto_mask(steps, samples), [True, True, False, True, False, False, False])
    np.testing.assert_array_equal(pareto_mask([1, 1], [2, 2]), [True, True])  # equal points do not dominate


# ----------------------------------------------------------------------------------------------
# 4. Bad inputs
# ----------------------------------------------------------------------------------------------

# Knots (1,): the constant stage only, so one descent shape to compile (these tests are about messages).
SMALL = dict(budget=BUDGET, max_batch=CAP, max_steps=64, points=2, iterations=40, knots=(1,))


def test_unreachable_and_invalid_targets():
    floor = 0.5 * 0.5**2
    for loss in (floor, 0.5 * floor):
        with pytest.raises(bt.UnreachableTarget, match="noise floor") as err:
            bt.plan(P80, target_loss=loss, **SMALL)
        assert f"{floor:.6g}" in str(err.value)
    for t in (0.0, -0.1):
        with pytest.raises(bt.UnreachableTarget, match="not positive"):
            bt.plan(P80, target=t, **SMALL)
    with pytest.raises(ValueError, match="initial risk"):
        bt.plan(P80, target=P80.initial_risk, **SMALL)
    for both in ({"target": 0.1, "target_loss": 0.3}, {}):
        with pytest.raises(ValueError, match="exactly one"):
            bt.plan(P80, **both, **SMALL)
    assert issubclass(bt.UnreachableTarget, ValueError)


def test_bad_limits_and_optimizer():
    for mb in (0, -3, 2.5):
        with pytest.raises(ValueError, match="max_batch"):
            bt.plan(P80, target=TARGET, **{**SMALL, "max_batch": mb})
    with pytest.raises(ValueError, match="exact recursion"):
        bt.plan(P80, target=TARGET, optimizer=bt.Adam(), **SMALL)


def test_budget_too_small_states_the_reachable_risk():
    """30 samples in at most 30 steps cannot reach E* = 0.05: the message gives the lowest risk found,
    which is the constant-schedule optimum there, and a target just above it is then planned."""
    small = {**SMALL, "budget": 30}
    with pytest.raises(bt.UnreachableTarget, match="lowest excess risk found is") as err:
        bt.plan(P80, target=TARGET, **small)
    reach = float(re.search(r"lowest excess risk found is ([0-9.eE+-]+)", str(err.value)).group(1))
    assert TARGET < reach < P80.initial_risk
    # K = N = 30 forces B = 1, and one knot is a constant LR: the stated risk must be that optimum
    # (scipy over the LR). Lower bound 1e-5: the message prints 6 digits; upper 1%: 40 Adam steps,
    # measured 0.2%. (Reading out knots optimised for the target's N instead gave 0.24, 37% above.)
    lim = bt.stability_limit(P80, 1.0)
    best = minimize_scalar(lambda a: float(np.asarray(bt.expected_risk(P80, bt.constant(a * lim, 1, 30)))[-1]),
                           bounds=(0.01, 0.99), method="bounded", options={"xatol": 1e-6}).fun
    assert best * (1 - 1e-5) <= reach <= best * 1.01
    # And it is reachable: 1% above it plans at K = 30 within the budget.
    ok = bt.plan(P80, target=1.01 * reach, **{**small, "points": 1, "min_steps": 30})
    assert ok.steps.tolist() == [30] and ok.samples[0] <= 30 and ok.points[0].risk <= 1.01 * reach


def test_budget_equal_to_the_horizon_is_reachable():
    """A target the all-ones schedule reaches at K = budget is planned (not refused as over budget by the
    1e-9 bracket offset of land(): N = K (1 + 1e-9) > budget was once read as unreachable)."""
    ok = bt.plan(P80, target=0.3, **{**SMALL, "budget": 30, "points": 1, "min_steps": 30})
    assert ok.samples.tolist() == [30] and ok.points[0].risk <= 0.3
