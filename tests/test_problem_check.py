"""``batchramp check --problem FILE``: equivalence checks built from a user's problem (issue 13, item 3)."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory.checks import registered
from batchramp_theory.checks.problem import MAX_MC_DIM, mc_skip_reason
from batchramp_theory.cli import main

jax.config.update("jax_enable_x64", True)


def _spectrum_file(path, p, noise=None):
    kw = {} if noise is None else {"noise": noise}
    np.savez(path, eigenvalues=np.asarray(p.eigenvalues), target_energies=np.asarray(p.eigenvalues * p.target**2), **kw)
    return path


def test_power_law_file_all_agree_and_controls_fail(tmp_path, capsys):
    f = _spectrum_file(tmp_path / "p.npz", bt.power_law_problem(256, 2.0, 0.5), noise=0.5)
    out = tmp_path / "c.json"
    assert main(["check", "--quick", "--problem", str(f), "--json", str(out)]) == 0
    said = capsys.readouterr().out
    assert "6/6 checks agree with theory (3 negative controls" in said
    recs = {r["name"]: r for r in json.loads(out.read_text())}
    assert set(recs) == {"problem.sgd.decay_vs_ramp", "problem.sgd.mismatched_product", "problem.nsgd.seesaw",
                         "problem.nsgd.sgd_rule", "problem.mc_vs_exact.sgd", "problem.mc_vs_exact.negative_control"}
    for r in recs.values():
        assert r["agrees"]
        assert r["passed"] == (r["expected"] == "pass"), r["name"]  # controls fail, equivalences pass
    # The equivalences hold far inside their bands, the controls miss them by several times.
    assert recs["problem.sgd.decay_vs_ramp"]["statistic"] < 0.2 * recs["problem.sgd.decay_vs_ramp"]["bound"]
    assert recs["problem.sgd.mismatched_product"]["statistic"] > 3 * recs["problem.sgd.mismatched_product"]["bound"]
    assert recs["problem.nsgd.sgd_rule"]["statistic"] > 2 * recs["problem.nsgd.sgd_rule"]["bound"]


def test_weighted_file_skips_monte_carlo_with_a_reason(tmp_path, capsys):
    q = bt.power_law_problem(None, 2.0, 1.0, noise=1.0, quadrature=200)
    f = tmp_path / "q.npz"
    np.savez(f, eigenvalues=np.asarray(q.eigenvalues), target=np.asarray(q.target), weights=np.asarray(q.weights), noise=1.0)
    out = tmp_path / "c.json"
    assert main(["check", "--quick", "--problem", str(f), "--json", str(out)]) == 0
    cap = capsys.readouterr()
    assert "problem.mc_vs_exact skipped" in cap.err and "weights" in cap.err
    recs = json.loads(out.read_text())
    assert len(recs) == 4 and all(r["agrees"] for r in recs)
    assert mc_skip_reason(bt.power_law_problem(MAX_MC_DIM + 1, 2.0, 0.5)) is not None
    assert mc_skip_reason(bt.power_law_problem(64, 2.0, 0.5)) is None


def test_file_without_noise_takes_noise_flag(tmp_path, capsys):
    f = _spectrum_file(tmp_path / "p.npz", bt.power_law_problem(64, 2.0, 0.5))
    assert main(["check", "--quick", "--problem", str(f)]) == 2  # no noise anywhere: one line naming --problem
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--problem" in err and "noise" in err


@pytest.mark.parametrize("content,extra,needle", [
    ({"eigenvalues": [1.0, 0.5], "target": [1.0, 0.5, 0.2], "noise": 1.0}, [], "--problem"),
    ({"eigenvalues": [1.0, float("nan")], "target_energies": [1.0, 0.5], "noise": 1.0}, [], "--problem"),
    ({"X": [[1.0]]}, [], "keys"),
    ({"eigenvalues": [1.0, 0.5], "target_energies": [1.0, 0.5], "noise": 1.0}, ["--select", "core"], "--select"),
])
def test_bad_problem_file_exits_2_with_one_line(tmp_path, capsys, content, extra, needle):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(content).replace("NaN", "NaN"))
    assert main(["check", "--quick", "--problem", str(f), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err


def test_problem_checks_are_not_in_the_global_registry():
    assert not any(g.startswith("problem") for g in registered())
