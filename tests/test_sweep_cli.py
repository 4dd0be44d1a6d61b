"""``batchramp sweep``: outputs, an interrupted-and-resumed run, bad input."""

import json

import numpy as np
import pytest

from batchramp_theory.cli import main
from batchramp_theory.fsl import sweep as sweep_mod

ARGS = ["sweep", "--capacity", "2", "3", "--source", "0.3", "0.8", "--budget", "1e6", "--no-progress"]


def _rows(out):
    return json.loads((out / "sweep.json").read_text())


def test_sweep_outputs(tmp_path):
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out)]) == 0
    rows = _rows(out)
    assert len(rows) == 4 and len(list((out / "points").glob("point-*.json"))) == 4
    assert (out / "sweep.csv").read_text().count("\n") == 5
    assert (out / "sweep_heatmap.png").stat().st_size > 10_000
    by = {(r["capacity"], r["source"]): r for r in rows}
    hard, easy = by[(3.0, 0.3)], by[(3.0, 0.8)]
    assert hard["regime"] == "hard" and easy["regime"] == "easy"
    assert hard["switch_fraction"] > 0.3 and hard["gain_two_stage"] > 1.1 and 0 < hard["catchup_fraction"] < 1
    assert easy["switch_fraction"] == 0.0 and easy["catchup_time"] is None  # no switch, nothing to catch up
    for r in rows:
        # Both schedule families contain the constant batch, so neither can lose to it.
        assert r["gain_two_stage"] >= 1 - 1e-9 and r["gain_optimal"] >= 1 - 1e-9


def test_interrupted_sweep_resumes(tmp_path, monkeypatch):
    real = sweep_mod.sweep_point
    calls = []

    def interrupted(point):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user hits Ctrl-C while the third point runs
        calls.append(point)
        return real(point)

    out = tmp_path / "resumed"
    monkeypatch.setattr(sweep_mod, "sweep_point", interrupted)
    assert main(ARGS + ["--out", str(out)]) == 130  # one line, not a traceback (tests/test_cli_errors.py)
    assert len(list((out / "points").glob("point-*.json"))) == 2
    assert not list((out / "points").glob(".tmp-*"))  # nothing half-written

    calls.clear()
    monkeypatch.setattr(sweep_mod, "sweep_point", lambda p: calls.append(p) or real(p))
    assert main(ARGS + ["--out", str(out)]) == 0
    assert len(calls) == 2  # only the unfinished points ran
    monkeypatch.setattr(sweep_mod, "sweep_point", real)
    fresh = tmp_path / "fresh"
    assert main(ARGS + ["--out", str(fresh)]) == 0
    assert _rows(out) == _rows(fresh)  # nothing lost or duplicated


def test_sweep_exact_dim(tmp_path):
    out = tmp_path / "exact"
    assert main(["sweep", "--capacity", "2", "--source", "0.3", "--budget", "3000", "--lr", "0.3", "--exact-dim", "64",
                 "--no-progress", "--out", str(out)]) == 0
    (r,) = _rows(out)
    assert r["exact_loss_optimal"] > 0 and r["exact_loss_two_stage"] > 0
    assert np.isfinite(r["exact_gain_optimal"]) and r["exact_gain_optimal"] > 1.0  # the FSL schedule beats the best constant batch


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--capacity", "0.8"], "capacity"),
        (["--source", "-0.1"], "source"),
        (["--budget", "0.5"], "budget"),
        (["--eps", "1.5"], "eps"),
        (["--batch2", "0.5"], "batch2"),
        (["--capacity", "2", "2"], "repeated"),
        (["--b-max", "0.5"], "--b-max"),
        (["--exact-dim", "10", "--budget", "1e9"], "--exact-dim"),
    ],
)
def test_bad_input(tmp_path, capsys, extra, needle):
    base = ["sweep", "--capacity", "2", "--source", "0.3", "--budget", "1e4", "--no-progress", "--out", str(tmp_path / "x")]
    assert main(base + extra) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "x" / "points").exists()  # validated before any work


def test_bad_out_and_batch2_text(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["sweep", "--capacity", "2", "--source", "0.3", "--no-progress", "--out", str(f)]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["sweep", "--batch2", "big"]) == 2
