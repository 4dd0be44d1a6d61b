"""``--problem FILE.npz`` (cli/problem_args.py): both layouts load, malformed files exit 2 naming the key."""

import jax
import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory.cli import main
from batchramp_theory.cli.problem_args import load_problem

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def spectrum_file(tmp_path):
    p = bt.power_law_problem(16, 2.0, 0.5, noise=0.5)
    path = tmp_path / "spec.npz"
    np.savez(path, eigenvalues=p.eigenvalues, target_energies=p.eigenvalues * p.target**2, noise=0.5)
    return path, p


def test_spectrum_file_is_the_power_law_problem(spectrum_file):
    path, p = spectrum_file
    q = load_problem(path)
    s = bt.constant(0.3, 4, 50)
    np.testing.assert_allclose(bt.expected_risk(q, s), bt.expected_risk(p, s), rtol=1e-10)


def test_data_file_is_from_data(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 5)), rng.standard_normal(40)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    q, p = load_problem(tmp_path / "d.npz"), bt.Problem.from_data(X, y)
    np.testing.assert_allclose(q.eigenvalues, p.eigenvalues, rtol=1e-12)
    assert q.rows is not None


@pytest.mark.parametrize("arrays, match", [
    (dict(lam=np.ones(3)), "keys"),
    (dict(eigenvalues=-np.ones(3), target_energies=np.ones(3), noise=0.1), "eigenvalues must be positive"),
    (dict(eigenvalues=np.ones(3), target_energies=np.full(3, np.nan), noise=0.1), "target_energies contains NaN"),
    (dict(eigenvalues=np.ones(3), target_energies=np.ones(2), noise=0.1), "target_energies has shape"),
    (dict(X=np.ones((3, 2)), y=np.ones(4)), "y has 4 entries"),
    (dict(eigenvalues=np.ones(3), target_energies=np.ones(3), X=np.ones((3, 3)), y=np.ones(3)), "keys"),
])
def test_malformed_files_exit_2_with_one_line(tmp_path, capsys, arrays, match):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=match):
        load_problem(path)
    assert main(["critical-batch", "--problem", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--problem" in err[0]


def test_not_an_npz(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("1 2 3")
    with pytest.raises(ValueError, match="npz"):
        load_problem(path)


def test_critical_batch_runs_on_a_spectrum_file(spectrum_file, tmp_path):
    path, _ = spectrum_file
    assert main(["critical-batch", "--problem", str(path), "--steps", "600", "--max-batch", "16",
                 "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "critical_batch.json").exists()


def test_seesaw_export_cost_on_a_problem_file(spectrum_file, tmp_path):
    """The exporter's cost reads the same file layouts; --problem-file is an alias of --problem."""
    import json

    path, p = spectrum_file
    base = ["seesaw", "--tokens", "4e6", "--batch", "16", "--seq-len", "64", "--export", "megatron"]
    out = {}
    for flag in ("--problem", "--problem-file", None):
        js = tmp_path / f"{flag}.json"
        assert main(base + ([flag, str(path)] if flag else []) + ["--json", str(js)]) == 0
        out[flag] = json.loads(js.read_text())["cost"]
    assert out["--problem"] == out["--problem-file"]
    assert out["--problem"] != out[None]  # the default power law (dim 1000) is a different problem
    # The file's problem is the power law it was written from: its cost is that problem's.
    assert main(base + ["--dim", "16", "--noise", "0.5", "--json", str(tmp_path / "pl.json")]) == 0
    pl = json.loads((tmp_path / "pl.json").read_text())["cost"]
    assert out["--problem"]["ratio_vs_ideal"] == pytest.approx(pl["ratio_vs_ideal"], rel=1e-10)
