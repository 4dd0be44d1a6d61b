"""``batchramp sweep``: outputs, an interrupted-and-resumed run, damaged point files, a full disk, bad input."""

import errno
import json
import os

import numpy as np
import pytest

from batchramp_theory.cli import main
from batchramp_theory.fsl import sweep as sweep_mod

ARGS = ["sweep", "--capacity", "2", "3", "--source", "0.3", "0.8", "--budget", "1e6", "--no-progress"]


def _rows(out):
    return json.loads((out / "sweep.json").read_text())


def test_sweep_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out)]) == 0
    assert "batchramp sweep: 4 points: 4 computed, 0 reused, 0 recovered" in capsys.readouterr().out
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


def test_damaged_point_files_are_recovered(tmp_path, capsys):
    """The user's report: a truncated file under points/ stopped the rerun with a bare JSON error."""
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out)]) == 0
    undamaged = _rows(out)
    files = sorted((out / "points").glob("point-*.json"))
    truncated, copied = files[0], files[1]
    originals = {truncated: truncated.read_bytes(), copied: copied.read_bytes()}
    truncated.write_bytes(originals[truncated][:7])  # interrupted copy / full disk
    copied.write_bytes(files[2].read_bytes())  # another point's result under this name
    capsys.readouterr()
    assert main(ARGS + ["--out", str(out)]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "damaged point file" in line]
    assert len(warnings) == 2 and all(line.startswith("batchramp sweep: warning: ") for line in warnings)
    assert any(str(truncated) in w and "not valid JSON" in w for w in warnings)
    assert any(str(copied) in w and "another point" in w for w in warnings)
    assert "4 points: 2 computed, 2 reused, 2 recovered" in captured.out
    assert _rows(out) == undamaged  # the final aggregate equals the undamaged run's
    assert sorted(f.read_bytes() for f in (out / "points" / "damaged").iterdir()) == sorted(
        [originals[truncated][:7], files[2].read_bytes()])  # kept, not deleted
    assert sorted((out / "points").glob("point-*.json")) == files
    assert {f: f.read_bytes() for f in (truncated, copied)} == originals  # recomputed byte for byte


def test_full_disk_is_one_clear_error(tmp_path, monkeypatch, capsys):
    out = tmp_path / "full"

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    assert main(ARGS + ["--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("batchramp sweep: error: ") and "\n" not in err
    assert str(out / "points") in err and "No space left on device" in err and "rerun" in err
    monkeypatch.undo()
    assert not list((out / "points").iterdir())  # nothing half-written left behind


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
        (["--stale-after", "0"], "--stale-after"),
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


@pytest.mark.slow
def test_two_sweep_processes_on_one_folder(tmp_path):
    """Two real `batchramp sweep` processes on one --out: the points they computed add up to the grid once."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), JAX_PLATFORMS="cpu")
    grid = ["sweep", "--capacity", "1.5", "2", "3", "--source", "0.3", "0.5", "0.8", "1.2", "--budget", "1e6", "--no-progress"]
    out = tmp_path / "shared"
    procs = [subprocess.Popen([sys.executable, "-m", "batchramp_theory", *grid, "--out", str(out)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    computed = 0
    for proc in procs:
        stdout, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        (m,) = re.findall(r"batchramp sweep: 12 points: (\d+) computed, (\d+) reused, 0 recovered", stdout)
        computed += int(m[0])
    assert computed == 12  # each point computed by exactly one of them
    single = tmp_path / "single"
    assert main(grid + ["--out", str(single)]) == 0
    assert _rows(out) == _rows(single)
