"""``batchramp sweep --problem FILE`` and :func:`batchramp_theory.fit_exponents` (issue 13, item 3)."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory.cli import main

jax.config.update("jax_enable_x64", True)


def _write(path, p, noise=None):
    kw = {} if noise is None else {"noise": noise}
    np.savez(path, eigenvalues=np.asarray(p.eigenvalues), target_energies=np.asarray(p.eigenvalues * p.target**2), **kw)
    return path


@pytest.mark.parametrize("beta,s", [(2.0, 0.3), (1.5, 1.2), (3.0, 0.5)])
def test_fit_recovers_power_law_exponents(beta, s):
    # An exact power law: both log-log fits are exact, up to float64 rounding of the logs (1e-10).
    f = bt.fit_exponents(bt.power_law_problem(300, beta, s))
    assert f.capacity == pytest.approx(beta, rel=1e-10)
    assert f.source == pytest.approx(s, rel=1e-10)
    assert max(f.log_rms) < 1e-10 and f.capacity_stderr < 1e-10 and f.source_stderr < 1e-10
    assert f.eigenvalue_fit.n == f.energy_fit.n == 300


def test_fit_of_a_perturbed_spectrum_has_error_bars():
    # Multiplicative log-normal scatter (std 0.1 in ln) around beta = 2, s = 0.5: the fit lands within
    # 5 of its own standard errors of the truth, and the errors are of the size OLS predicts.
    rng = np.random.default_rng(0)
    p = bt.power_law_problem(400, 2.0, 0.5)
    lam = np.asarray(p.eigenvalues) * np.exp(0.1 * rng.standard_normal(400))
    en = np.asarray(p.eigenvalues * p.target**2) * np.exp(0.1 * rng.standard_normal(400))
    f = bt.fit_exponents(bt.Problem.from_spectrum(lam, en, 1.0))
    assert abs(f.capacity - 2.0) < 5 * f.capacity_stderr and 1e-4 < f.capacity_stderr < 0.05
    assert abs(f.source - 0.5) < 5 * f.source_stderr and 1e-4 < f.source_stderr < 0.05
    assert 0.01 < f.log_rms[0] < 0.15  # sorting by eigenvalue removes part of the scatter
    # Negative control: the same scatter on a beta = 2.3 spectrum is not read as beta = 2.
    g = bt.fit_exponents(bt.Problem.from_spectrum(lam * np.arange(1, 401) ** -0.3, en, 1.0))
    assert abs(g.capacity - 2.0) > 5 * g.capacity_stderr


def test_fit_weighted_problem_uses_multiplicity_ranks():
    q = bt.power_law_problem(None, 2.5, 0.3, quadrature=300)  # weighted nodes standing for infinitely many modes
    f = bt.fit_exponents(q)
    # Midpoint ranks of weighted nodes: a few per mille (the nodes' own spread within a weight).
    assert f.capacity == pytest.approx(2.5, rel=5e-3) and f.source == pytest.approx(0.3, rel=5e-3)


def test_fit_rejects_too_few_modes():
    with pytest.raises(ValueError, match="problem"):
        bt.fit_exponents(bt.Problem.from_spectrum([1.0, 0.5], [1.0, 0.2], 1.0))


def _rows(out):
    return json.loads((out / "sweep.json").read_text())


def test_sweep_of_a_file_equals_sweep_at_the_fitted_exponents(tmp_path, capsys):
    # The file's sweep (fitted exponents, file's noise, the file's problem in the exact runs) equals the
    # sweep at the true exponents: every column to 1e-6 relative (the fit is exact to ~1e-15; the optimised
    # batch2 and switch come from a numeric search whose tolerance is ~1e-8 relative, measured 3.5e-8, and the
    # exact columns follow them), the exact columns too (the file holds the same problem).
    f = _write(tmp_path / "p.npz", bt.power_law_problem(64, 2.0, 0.3), noise=0.7)
    common = ["--budget", "3000", "--lr", "0.3", "--exact-dim", "64", "--no-progress"]
    assert main(["sweep", "--problem", str(f), *common, "--out", str(tmp_path / "a")]) == 0
    said = capsys.readouterr().out
    assert "fitted capacity beta = 2" in said and "source s = 0.3" in said and "noise sigma = 0.7" in said
    assert main(["sweep", "--capacity", "2", "--source", "0.3", "--noise", "0.7", *common, "--out", str(tmp_path / "b")]) == 0
    (a,), (b,) = _rows(tmp_path / "a"), _rows(tmp_path / "b")
    assert a["problem_sha256"] and a["problem_file"].endswith("p.npz") and a["capacity_stderr"] < 1e-10
    assert a["noise"] == 0.7 and a["exact_dim"] == 64
    compared = 0
    for k, v in b.items():
        if isinstance(v, float) and k not in ("capacity", "source"):
            assert a[k] == pytest.approx(v, rel=1e-6), k
            compared += 1
    assert compared > 15 and a["capacity"] == pytest.approx(2.0, rel=1e-12)
    # Negative control: a sweep at a neighbouring source is not equal (the comparison can fail).
    assert main(["sweep", "--capacity", "2", "--source", "0.31", "--noise", "0.7", *common, "--out", str(tmp_path / "c")]) == 0
    (c,) = _rows(tmp_path / "c")
    assert abs(c["exact_gain_two_stage"] / a["exact_gain_two_stage"] - 1) > 1e-3


def test_exact_runs_use_the_files_problem(tmp_path):
    # A file that is not a power law (the top mode's energy x10): the exact columns and the stability limit
    # follow the file, not the power law at the fitted exponents.
    p = bt.power_law_problem(64, 2.0, 0.3)
    en = np.asarray(p.eigenvalues * p.target**2)
    en[0] *= 10.0
    lam = np.asarray(p.eigenvalues).copy()
    lam[0] *= 3.0
    f = tmp_path / "q.npz"
    np.savez(f, eigenvalues=lam, target_energies=en, noise=0.7)
    assert main(["sweep", "--problem", str(f), "--budget", "3000", "--lr", "0.1", "--exact-dim", "64", "--no-progress",
                 "--out", str(tmp_path / "a")]) == 0
    (a,) = _rows(tmp_path / "a")
    q = bt.Problem.from_spectrum(lam, en, 0.7)
    assert a["lr_stability_limit"] == pytest.approx(bt.stability_limit(q, 1.0), rel=1e-12)
    pl = bt.power_law_problem(64, a["capacity"], a["source"], 0.7)
    assert abs(a["lr_stability_limit"] / bt.stability_limit(pl, 1.0) - 1) > 0.1


@pytest.mark.parametrize("content,extra,needle", [
    ({"eigenvalues": [1.0, 0.5, 0.2], "energies": [1.0, 0.5, 0.2]}, [], "keys"),
    ({"eigenvalues": [1.0, -0.5, 0.2], "target_energies": [1.0, 0.5, 0.2]}, [], "--problem"),
    ({"eigenvalues": [1.0, 0.5, 0.2], "target_energies": [1.0, 0.5]}, [], "--problem"),
    ({"eigenvalues": [1.0, 0.5, 0.25, 0.125], "target_energies": [1.0, 0.5, 0.25, 0.125]}, ["--capacity", "2"], "--capacity"),
    ({"eigenvalues": [1.0, 0.5, 0.25, 0.125], "target_energies": [1.0, 0.5, 0.25, 0.125]}, ["--exact-dim", "10"], "--exact-dim"),
    ({"eigenvalues": [1.0, 0.9, 0.8, 0.7], "target_energies": [1.0, 0.5, 0.25, 0.125]}, [], "beta > 1"),
])
def test_bad_problem_file_exits_2_with_one_line(tmp_path, capsys, content, extra, needle):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(content))
    assert main(["sweep", "--problem", str(f), "--budget", "3000", "--no-progress", *extra, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not (tmp_path / "o" / "points").exists()
