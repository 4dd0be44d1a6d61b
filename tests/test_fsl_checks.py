"""The registered FSL checks and figures, end to end in quick mode (slow: about 1.5 minutes)."""

import pytest

from batchramp_theory.checks import run_checks

pytestmark = pytest.mark.slow


def test_fsl_checks_agree_with_theory():
    results = run_checks(quick=True, select=["fsl."])
    bad = [r for r in results if not r.agrees]
    assert not bad, bad
    names = {r.name: r for r in results}
    # The issue names these two; their statistic is the fitted exponent.
    g = names["fsl.optimal.hard.growth_fraction_exponent"]
    assert g.bound[0] <= g.statistic <= g.bound[1] and g.statistic < 0
    r = names["fsl.optimal.two_stage.remaining_data_exponent"]
    assert r.bound[0] <= r.statistic <= r.bound[1] and 0.8 < r.statistic < 0.95
    assert sum(r.expected == "fail" for r in results) >= 8  # negative controls and measured breakdowns
    for prefix in ("fsl.agreement.modes.", "fsl.agreement.power_law.s"):
        assert sum(n.startswith(prefix) for n in names) == 12  # s in {0.3,0.5,0.8,1.2} x beta in {1.5,2,3}


@pytest.mark.parametrize("name", ["fsl_vs_simulation", "optimal_batch", "catchup", "late_vs_early_switch", "loss_vs_budget"])
def test_fsl_figures_quick(tmp_path, name):
    from batchramp_theory.figures import Claim, make_figure

    claims = make_figure(name, tmp_path, quick=True)
    assert claims and all(c.passed for c in claims), [c for c in claims if not c.passed]
    assert all(isinstance(c, Claim) and c.figure == name for c in claims)
    for ext in ("png", "pdf", "json"):
        assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
