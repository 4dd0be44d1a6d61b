"""The verification layer: the one result type, the band/z/slope helpers, the predictions, and
the check registry's behaviour (``--list``, JSON output). Cheap: no check group is run."""

import copy
import json
import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory import checks, figures
from batchramp_theory.cli import main
from batchramp_theory.verify import bands, predictions
from batchramp_theory.verify.result import CheckResult, Claim

CHECK_KEYS = ["name", "statistic", "bound", "passed", "expected", "reason", "agrees"]
CLAIM_KEYS = ["figure", "name", "measured", "predicted", "passed", "detail"]


# ----------------------------------------------------------------------------- result type


def test_one_result_type_for_checks_and_figures():
    assert checks.CheckResult is CheckResult
    assert issubclass(figures.Claim, CheckResult) and figures.Claim is Claim
    c = Claim("fig", "claim", 0.5, "<= 1", True, "why")
    assert isinstance(c, CheckResult)
    assert (c.figure, c.name, c.measured, c.predicted, c.passed, c.detail) == ("fig", "claim", 0.5, "<= 1", True, "why")
    assert (c.statistic, c.reason, c.expected, c.bound, c.agrees) == (0.5, "why", "pass", None, True)


def test_check_record_keeps_its_fields():
    r = CheckResult("g.x", np.float64(2.0), (np.float64(0.0), 3.0), np.bool_(True), "pass", "why")
    d = r.to_dict()
    assert list(d) == CHECK_KEYS
    assert d["bound"] == [0.0, 3.0] and type(d["statistic"]) is float and d["passed"] is True and d["agrees"] is True
    json.dumps(d)
    assert CheckResult("g.y", 1.0, 0.5, False, "fail", "").to_dict()["agrees"] is True


def test_claim_record_is_a_superset_of_the_figure_fields():
    d = bands.within("max z", 2.0, 5.0, figure="fig", predicted="<= 5", reason="10 steps").to_dict()
    assert list(d)[: len(CLAIM_KEYS)] == CLAIM_KEYS
    assert set(CHECK_KEYS) <= set(d)
    assert (d["measured"], d["predicted"], d["passed"], d["detail"], d["bound"]) == (2.0, "<= 5", True, "10 steps", 5.0)
    json.dumps(d)


def test_claim_copies_and_pickles():
    c = Claim("fig", "claim", 0.5, "<= 1", True, "why", bound=1.0)
    for twin in (copy.copy(c), copy.deepcopy(c), pickle.loads(pickle.dumps(c))):
        assert type(twin) is Claim and twin == c and twin.bound == 1.0
    assert c._replace(statistic=0.7).measured == 0.7


def test_agrees():
    ok = CheckResult("a", 1.0, 2.0, True, "pass", "")
    control = CheckResult("b", 3.0, 2.0, False, "fail", "")
    wrong = CheckResult("c", 3.0, 2.0, False, "pass", "")
    assert checks.agrees([ok, control]) and not checks.agrees([ok, wrong])


# ----------------------------------------------------------------------------- bands


@pytest.mark.parametrize("stat, passed", [(0.0, True), (0.5, True), (1.0, True), (-1e-9, False), (1.0 + 1e-9, False), (math.nan, False)])
def test_within_a_band_fails_outside_it(stat, passed):
    r = bands.within("x", stat, (0.0, 1.0))
    assert r.passed is passed and r.bound == (0.0, 1.0)
    assert r.agrees is passed
    assert bands.within("x", stat, (0.0, 1.0), expected="fail").agrees is not passed


def test_within_a_number_is_an_upper_bound():
    assert bands.within("x", 0.05, 0.05).passed and not bands.within("x", 0.0500001, 0.05).passed
    assert bands.within("x", -math.inf, 0.05).passed and not bands.within("x", math.inf, 0.05).passed
    assert bands.within("x", 2.0, (1.0, math.inf)).passed  # "> 1" as a one-sided band


def test_around():
    r = bands.around("slope", 0.47, 0.5, 0.02)
    assert r.bound == (0.48, 0.52) and not r.passed
    assert bands.around("slope", 0.49, 0.5, 0.02).passed


def test_z_band_against_known_numbers():
    # Two runs per entry; first entry: mean 1, std (ddof=1) sqrt(2), SE 1, so z = |1 - exact|.
    mc = np.array([[0.0, 1.0, 4.0], [2.0, 1.0, 0.0]])
    # Third entry: mean 2, SE 2. Second: no spread, counted as z = 0.
    assert bands.max_abs_z(mc, np.array([0.0, 1.0, -2.0])) == 2.0  # z = 1, 0, 2
    assert bands.max_abs_z(mc, np.array([1.0, 1.0, -1.0])) == 1.5  # z = 0, 0, 1.5
    r = bands.z_band("mc", mc, np.array([0.0, 1.0, -2.0]), k=1.5)
    assert (r.statistic, r.bound, r.passed) == (2.0, 1.5, False)
    assert bands.z_band("mc", mc, np.array([0.0, 1.0, -2.0]), k=2.0).passed
    assert checks.z_band_check is bands.z_band  # the old spelling


def test_z_band_detects_a_shift_of_a_few_standard_errors():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((10_000, 4))
    assert bands.z_band("null", x, np.zeros(4), k=5.0).passed
    assert not bands.z_band("shifted", x, np.full(4, 0.06), k=5.0).passed  # 6 SE


def test_log_ratio_and_relative_error():
    assert bands.max_log_ratio([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert bands.max_log_ratio([1.0, 2.0], [2.0, 1.0]) == pytest.approx(math.log(2.0))
    assert bands.max_log_ratio([1.0, 2.0], [1.0, math.inf]) == math.inf
    assert bands.max_log_ratio([1.0, math.nan], [1.0, 1.0]) == math.inf
    assert bands.max_relative_error([1.1, 0.95], [1.0, 1.0]) == pytest.approx(0.1)
    r = bands.relative_error_band("rel", [1.02], [1.0], 0.01)
    assert not r.passed and r.statistic == pytest.approx(0.02)


def test_fitted_slope_and_slope_band():
    x = np.geomspace(1.0, 1e4, 9)
    assert bands.fitted_slope(x, 3.0 * x**-0.3) == pytest.approx(-0.3, abs=1e-12)
    assert bands.fitted_slope(x, 3.0 * x**-0.3) == bt.fit_power(x, 3.0 * x**-0.3).slope
    assert bands.slope_band("s", x, x**0.5, (0.48, 0.52)).passed
    assert not bands.slope_band("s", x, x**0.6, (0.48, 0.52)).passed


# ----------------------------------------------------------------------------- predictions


def test_fsl_exponents_match_the_docs_table():
    # docs/fsl.md, section 3.1: the table of predicted exponents.
    assert predictions.optimal_horizon_exponent(0.8, 2.0) == pytest.approx(0.7692, abs=1e-4)
    assert predictions.optimal_loss_exponent(0.8, 2.0) == pytest.approx(-0.6154, abs=1e-4)
    assert predictions.optimal_horizon_exponent(1.2, 1.5) == pytest.approx(0.5357, abs=1e-4)
    assert predictions.optimal_loss_exponent(1.2, 1.5) == pytest.approx(-0.6429, abs=1e-4)
    assert predictions.growth_fraction_exponent(0.3, 2.0) == pytest.approx(-0.1333, abs=1e-4)
    assert predictions.optimal_loss_exponent(0.3, 2.0) == -0.3
    assert predictions.optimal_horizon_exponent(0.3, 2.0) == 1.0
    assert predictions.two_stage_remaining_exponent(0.3, 2.0) == pytest.approx(0.8667, abs=1e-4)
    got = [predictions.growth_fraction_exponent(0.2, 3.0), predictions.optimal_loss_exponent(0.2, 3.0),
           predictions.optimal_horizon_exponent(0.2, 3.0), predictions.two_stage_remaining_exponent(0.2, 3.0)]
    assert got == pytest.approx([-0.28, -0.2, 1.0, 0.72])
    assert predictions.optimal_loss_exponent(0.3, 2.0, regime="easy") == pytest.approx(-0.375)
    assert predictions.catchup_time_fraction_exponent(0.3, 2.0) == pytest.approx(-0.4)
    with pytest.raises(ValueError):
        predictions.optimal_loss_exponent(0.3, 2.0, regime="medium")


def test_fsl_regime_boundary_and_kernel():
    assert predictions.in_power_law_fsl_domain(0.5, 2.0)  # the boundary s = 1 - 1/beta is inside
    assert not predictions.in_power_law_fsl_domain(0.51, 2.0)
    assert bt.fsl.regime(0.5, 2.0) == "easy"  # ... and easy for the optimal-schedule exponents
    d = predictions.finite_size_dim(0.5, 2.0, 1000.0, 0.05)
    assert (1000.0 / d**2.0) ** 0.5 == pytest.approx(0.05)


def test_critical_batch_and_lr_exponents():
    assert predictions.critical_batch_budget_exponent(1.0) == 0.5
    assert predictions.critical_batch_budget_exponent(0.5) == pytest.approx(1 / 3)
    assert predictions.time_transfer_budget_exponent() == 1.0
    assert predictions.optimal_lr_batch_exponent("sgd") == 1.0 and predictions.optimal_lr_batch_exponent("nsgd") == 0.5
    with pytest.raises(ValueError):
        predictions.optimal_lr_batch_exponent("adam")
    from batchramp_theory.checks.critical_batch import LINEAR_RULE_BAND, SQRT_RULE_BAND

    assert LINEAR_RULE_BAND == (0.85, 1.1) and SQRT_RULE_BAND == (0.38, 0.6)


def test_seesaw_reductions_against_the_base_schedules():
    # The library's adaptive quadrature of 1 - mean r against the closed forms.
    assert bt.quarter_cosine_lr(1.0, 1e9).continuous_reduction() == pytest.approx(predictions.quarter_cosine_step_reduction(), abs=1e-9)
    assert bt.half_cosine_lr(1.0, 1e9).continuous_reduction() == pytest.approx(predictions.half_cosine_step_reduction(), abs=1e-9)
    olmo = bt.olmo_cosine_lr(1.0, 1e9).continuous_reduction()
    assert olmo == pytest.approx(predictions.half_cosine_step_reduction(warmup=0.1, final=0.1), abs=1e-9)
    assert olmo == pytest.approx(0.405, abs=1e-12)
    quarter = bt.quarter_cosine_lr(1.0, 1e9)
    for q in (0.0, 0.5, 0.75, 1.0):
        assert quarter.mean_ratio(q) == pytest.approx(predictions.quarter_cosine_step_ratio(q), abs=1e-8)
    assert predictions.quarter_cosine_step_ratio(1.0) == pytest.approx(1 - predictions.quarter_cosine_step_reduction())


def test_accounting_and_nsgd_reductions():
    assert predictions.ramp_step_ratio([0.3, 0.3, 0.2, 0.2], 5.0) == pytest.approx(0.3 + 0.06 + 0.008 + 0.0016)
    lr = predictions.nsgd_matching_lr(0.01, 8.0, 2.5, 64)
    assert predictions.nsgd_effective_lr(lr, 8.0, 2.5, 64) * 2.5 == pytest.approx(0.01)


# ----------------------------------------------------------------------------- registry and CLI

GROUPS = [
    "core.mc_vs_exact", "core.sampler_law", "sgd.equivalence", "nsgd.equivalence.expected", "nsgd.equivalence.variance",
    "nsgd.equivalence.sample", "nsgd.equivalence.conditional", "nsgd.equivalence.adam", "smith",
    "seesaw.critical_batch", "fsl.agreement", "fsl.optimal", "fsl.catchup", "critical_batch.noise",
    "critical_batch.tradeoff", "critical_batch.budget", "critical_batch.lr_scaling", "critical_batch.seesaw",
    "scale.quadrature", "data.recursion_vs_rows", "data.equivalence", "model_size.lr_transfer",
    "model_size.critical_batch", "model_size.sensitivity",
    "plan.fsl_batch", "plan.fsl_lr", "plan.ramps_above_front", "plan.mccandlish_constant", "plan.single_mode",
]


def test_registry_lists_the_groups(capsys):
    # In-process the order follows import history; a fresh process lists them in _MODULES order.
    assert sorted(checks.registered()) == sorted(GROUPS)
    assert main(["check", "--list"]) == 0
    assert sorted(capsys.readouterr().out.split()) == sorted(GROUPS)
    out = subprocess.run([sys.executable, "-m", "batchramp_theory", "check", "--list"], capture_output=True, text=True, check=True,
                         env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.split() == GROUPS


@pytest.fixture
def dummy_group(monkeypatch):
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks.registered()))

    @checks.register("zz_verify_dummy")
    def _dummy(quick):
        return [bands.within("zz_verify_dummy.inside", 0.5, (0.0, 1.0), reason="inside"),
                bands.within("zz_verify_dummy.control", 2.0, 1.0, expected="fail", reason="a negative control")]

    with pytest.raises(ValueError, match="registered twice"):
        checks.register("zz_verify_dummy")(_dummy)
    return "zz_verify_dummy"


def test_check_json_output(tmp_path, dummy_group):
    out = tmp_path / "checks.json"
    assert main(["check", "--quick", "--select", dummy_group, "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert [r["name"] for r in records] == ["zz_verify_dummy.inside", "zz_verify_dummy.control"]
    assert all(list(r) == CHECK_KEYS for r in records)
    assert records[1] == {"name": "zz_verify_dummy.control", "statistic": 2.0, "bound": 1.0, "passed": False,
                          "expected": "fail", "reason": "a negative control", "agrees": True}


def test_check_exits_nonzero_on_disagreement(monkeypatch, tmp_path):
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks.registered()))
    checks.register("zz_verify_bad")(lambda quick: [bands.within("zz_verify_bad.x", 2.0, 1.0, reason="outside")])
    assert main(["check", "--select", "zz_verify_bad"]) == 1
