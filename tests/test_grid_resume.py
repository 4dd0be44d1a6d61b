"""Resumable sweeps: kill a sweep midway with SIGKILL, rerun it, nothing is lost or duplicated.

The sweep runs in a subprocess (a real process death, not an exception): a worker evaluates
exact risks of a grid of schedules and appends every point it evaluates to a log. The parent
kills it once some result files exist, reruns it to completion, and checks that (1) every point
has exactly one result file, (2) the rerun evaluated exactly the points that had no file, and
(3) the results equal an uninterrupted sweep's.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from batchramp_theory.grid import load_grid, point_id, run_grid_batched

ROOT = Path(__file__).resolve().parents[1]
N_POINTS = 24

_WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import jax
    jax.config.update("jax_enable_x64", True)
    import batchramp_theory as bt
    from batchramp_theory.grid import run_grid, run_grid_batched

    out_dir, log_path, mode, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    p = bt.power_law_problem(32, 2.0, 0.5, noise=0.5)
    points = [{"lr": round(0.05 * (i % 8 + 1), 2), "batch": 2 ** (i // 8)} for i in range(N_POINTS)]

    def log(pts):
        with open(log_path, "a") as fh:  # one line per evaluated point, flushed to disk at once
            for pt in pts:
                fh.write(json.dumps(pt, sort_keys=True) + "\\n")
            fh.flush(); os.fsync(fh.fileno())

    def evaluate(pt):
        log([pt])
        time.sleep(delay)  # slow enough to be killed midway
        r = bt.expected_risk(p, bt.constant(pt["lr"], pt["batch"], 200))
        return {"final": float(r[-1]), "mean": float(r.mean())}

    def evaluate_many(pts):
        return [evaluate(pt) for pt in pts]

    if mode == "single":
        run_grid(points, evaluate, out_dir, progress=False)
    else:
        run_grid_batched(points, evaluate_many, out_dir, batch_size=3, progress=False, writer=True)
    """
).replace("N_POINTS", str(N_POINTS))


def _launch(tmp_path: Path, out_dir: Path, log: Path, mode: str, delay: float) -> subprocess.Popen:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    return subprocess.Popen([sys.executable, str(script), str(out_dir), str(log), mode, str(delay)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _logged(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("mode", ["single", pytest.param("batched", marks=pytest.mark.slow)])
def test_kill_midway_and_resume(tmp_path, mode):
    out, log1, log2 = tmp_path / "sweep", tmp_path / "log1", tmp_path / "log2"
    proc = _launch(tmp_path, out, log1, mode, delay=0.15)
    deadline = time.monotonic() + 300
    while len(list(out.glob("point-*.json"))) < 6:
        assert proc.poll() is None, f"worker ended before it could be killed: {proc.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "worker too slow to write 6 points"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    done_before = {json.dumps(r["point"], sort_keys=True) for r in load_grid(out)}
    assert 6 <= len(done_before) < N_POINTS  # killed midway
    # Every visible result file is complete JSON (atomic writes: no partial file is ever visible).
    for f in out.glob("point-*.json"):
        json.loads(f.read_text())

    proc = _launch(tmp_path, out, log2, mode, delay=0.0)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]

    records = load_grid(out)
    keys = [json.dumps(r["point"], sort_keys=True) for r in records]
    assert len(keys) == N_POINTS == len(set(keys))  # nothing lost, nothing duplicated
    assert sorted(f.name for f in out.glob("point-*.json")) == sorted(
        f"point-{point_id(r['point'])}.json" for r in records)
    rerun = _logged(log2)
    assert len(rerun) == len(set(rerun))  # the rerun evaluated each point once ...
    assert set(rerun) == set(keys) - done_before  # ... and only the unfinished ones
    assert set(_logged(log1)) | set(rerun) == set(keys)

    # Same results as an uninterrupted sweep.
    ref_dir = tmp_path / "ref"
    proc = _launch(tmp_path, ref_dir, tmp_path / "log_ref", mode, delay=0.0)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    ref = {json.dumps(r["point"], sort_keys=True): r["result"] for r in load_grid(ref_dir)}
    assert ref == {json.dumps(r["point"], sort_keys=True): r["result"] for r in records}


def test_run_grid_batched_unit(tmp_path):
    calls = []

    def evaluate_many(pts):
        calls.append(len(pts))
        return [{"double": 2 * p["x"]} for p in pts]

    points = [{"x": i} for i in range(7)] + [{"x": 3}]  # one duplicate
    recs = run_grid_batched(points, evaluate_many, tmp_path, batch_size=3, progress=False, writer=True)
    assert [r["result"]["double"] for r in recs] == [0, 2, 4, 6, 8, 10, 12, 6]
    assert calls == [3, 3, 1]  # the duplicate was evaluated once
    assert run_grid_batched(points, evaluate_many, tmp_path, batch_size=3, progress=False, writer=True) == recs
    assert calls == [3, 3, 1]  # nothing left to do
    # A non-writer process (multi-host) computes but does not write.
    other = tmp_path / "other"
    assert run_grid_batched(points, evaluate_many, other, progress=False, writer=False) == []
    with pytest.raises(ValueError, match="batch_size"):
        run_grid_batched(points, evaluate_many, tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="returned 1 results for 2 points"):
        run_grid_batched([{"y": 1}, {"y": 2}], lambda pts: [{}], tmp_path / "bad", progress=False, writer=True)
