"""The ``data.*`` and ``model_size.*`` check groups and their figures, end to end in quick mode (slow: ~1.5 min)."""

import pytest

from batchramp_theory.checks import run_checks
from batchramp_theory.figures import make_figure


@pytest.mark.slow
@pytest.mark.parametrize("group", ["data", "model_size"])
def test_groups_agree_and_have_negative_controls(group):
    res = run_checks(quick=True, select=[group])
    assert res and all(r.agrees for r in res), [r for r in res if not r.agrees]
    assert any(r.expected == "fail" for r in res)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["model_size", "digits_gaussian_equivalence"])
def test_figures(tmp_path, name):
    claims = make_figure(name, tmp_path, quick=True)
    assert claims and all(c.passed for c in claims)
    assert (tmp_path / f"{name}.png").exists()
