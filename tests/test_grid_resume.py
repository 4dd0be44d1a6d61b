"""Resumable sweeps with real processes: SIGKILL midway, SIGKILL in the middle of a write, two workers at once.

1. A worker evaluates exact risks of a grid of schedules and logs every point it evaluates; the
   parent kills it once some result files exist, reruns it to completion, and checks that (a)
   every point has exactly one result file, (b) the rerun evaluated exactly the points that had
   no file, and (c) the results equal an uninterrupted sweep's.
2. A worker is SIGKILLed while it is writing a result (between creating the temporary file and
   the rename, with part of the record on disk): no readable half-result, a stray temporary file
   and a stale claim are left, and the rerun ignores and cleans both and gives identical numbers.
   With a non-atomic write (the final file opened directly) this test fails.
3. Two workers start on one folder at once: every point is computed by exactly one of them and
   both return the records of a single worker (also with hostnames faked apart, so only the
   claims' heartbeat keeps them apart); the control without claims duplicates points.

Cases 2 and 3 load ``grid.py`` by path in the children (it needs only the standard library), so
they cost a few seconds.
"""

import json
import os
import signal
import socket
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


# --- 2 and 3: children that load grid.py alone --------------------------------------------------

_STORE_CHILD = textwrap.dedent(
    """
    import importlib.util, json, math, os, socket, sys, time

    mode, out_dir, log_path, go, host = sys.argv[1:6]
    if host != "-":
        socket.gethostname = lambda: host  # pose as another host: only heartbeats tell liveness
    def audit(event, args):  # the promise, checked directly: a point file is never opened for writing
        if event == "open" and not isinstance(args[0], int) and args[2] & (os.O_WRONLY | os.O_RDWR):
            name = os.path.basename(os.fsdecode(os.fspath(args[0])))
            if name.startswith("point-") and name.endswith(".json"):
                with open(log_path + ".opened", "a") as fh:
                    fh.write(name + "\\n")

    sys.addaudithook(audit)
    spec = importlib.util.spec_from_file_location("grid_alone", GRID_PATH)
    grid = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grid)

    class Blocks:
        # Reached by json.dump mid-write, after the bulk before it: tell the parent, wait to be killed.
        def __float__(self):
            open(go, "w").close()
            time.sleep(120)
            raise SystemExit("not killed")

    def evaluate(point):
        with open(log_path, "a") as fh:
            fh.write(json.dumps(point, sort_keys=True) + "\\n")
        x = point["x"]
        res = {"bulk": [x / 7.0] * 3000, "root": math.sqrt(x), "cube": x ** 3}
        if mode == "kill" and x == KILL_AT:
            res["blocker"] = Blocks()
        if mode.startswith("worker"):
            time.sleep(SLOW if x in (3.0, 11.0) else 0.03)  # two points outlast stale_after
        return res

    points = [{"x": float(i)} for i in range(N_STORE)]
    if mode.startswith("worker"):
        open(f"{go}.ready.{os.getpid()}", "w").close()
        while not os.path.exists(go):  # both workers start together
            time.sleep(0.005)
    recs = grid.run_grid(points, evaluate, out_dir, progress=False, claim=mode != "worker-noclaim",
                         stale_after=STALE)
    print(json.dumps({"records": recs, "computed": recs.computed, "recovered": recs.recovered}))
    """
)
N_STORE, KILL_AT, STALE, SLOW = 16, 5.0, 0.6, 1.0


def _store_child(tmp_path, mode, out, log, go, host="-"):
    script = tmp_path / "store_child.py"
    script.write_text(_STORE_CHILD.replace("GRID_PATH", repr(str(ROOT / "batchramp_theory" / "grid.py")))
                      .replace("KILL_AT", repr(KILL_AT)).replace("N_STORE", str(N_STORE))
                      .replace("STALE", repr(STALE)).replace("SLOW", repr(SLOW)))
    return subprocess.Popen([sys.executable, str(script), mode, str(out), str(log), str(go), host],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _start_together(go, procs):
    deadline = time.monotonic() + 120
    while len(list(go.parent.glob(f"{go.name}.ready.*"))) < len(procs):
        assert all(p.poll() is None for p in procs) and time.monotonic() < deadline, "a worker did not start"
        time.sleep(0.01)
    go.touch()


def _reference(tmp_path):
    proc = _store_child(tmp_path, "plain", tmp_path / "reference", tmp_path / "ref.log", tmp_path / "unused")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out)["records"]


def test_sigkill_in_the_middle_of_a_write(tmp_path):
    out, go = tmp_path / "store", tmp_path / "writing"
    proc = _store_child(tmp_path, "kill", out, tmp_path / "kill.log", go)
    deadline = time.monotonic() + 120
    while not go.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    killed = f"point-{point_id({'x': KILL_AT})}"
    # No readable half-result: every visible point file is a complete record, the killed point has none.
    finished = sorted(out.glob("point-*.json"))
    assert len(finished) == int(KILL_AT) and not (out / f"{killed}.json").exists()
    for f in finished:
        rec = json.loads(f.read_text())
        assert f.name == f"point-{point_id(rec['point'])}.json" and rec["point"]["x"] < KILL_AT
    # Killed between creating the temporary file and the rename, with part of the record written.
    (stray,) = out.glob(f".tmp-{killed[6:]}~*")
    assert stray.stat().st_size > 8192
    with pytest.raises(ValueError):
        json.loads(stray.read_text())
    assert (out / f"{killed}.claim").exists()  # the dead worker's claim
    assert not (tmp_path / "kill.log.opened").exists()  # results only ever appeared by rename

    proc = _store_child(tmp_path, "plain", out, tmp_path / "rerun.log", go)
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    rerun = json.loads(stdout)
    assert rerun["computed"] == N_STORE - int(KILL_AT) and rerun["recovered"] == 0  # nothing to repair
    assert rerun["records"] == _reference(tmp_path)  # identical numbers
    assert not list(out.glob(".tmp-*")) and not list(out.glob("*.claim")) and not (out / "damaged").exists()
    assert not (tmp_path / "rerun.log.opened").exists()


@pytest.mark.parametrize("hosts", [("-", "-"), ("host-a", "host-b")], ids=["one-host", "two-hosts"])
def test_two_workers_on_one_folder(tmp_path, hosts):
    out, go = tmp_path / "store", tmp_path / "go"
    out.mkdir()
    # A worker that crashed earlier left a claim on point 0 (this host, dead pid): it must not block.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / f"point-{point_id({'x': 0.0})}.claim").write_text(json.dumps(
        {"host": socket.gethostname(), "pid": dead.pid, "token": "old"}))
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [_store_child(tmp_path, "worker", out, log, go, host) for log, host in zip(logs, hosts)]
    _start_together(go, procs)
    results = []
    for proc in procs:
        stdout, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(stdout))
    done = [_logged(log) for log in logs]
    assert not set(done[0]) & set(done[1])  # no point computed twice ...
    assert len(done[0]) + len(done[1]) == N_STORE == len(set(done[0]) | set(done[1]))  # ... none lost
    assert all(r["computed"] > 0 for r in results)  # both did work
    ref = _reference(tmp_path)
    assert results[0]["records"] == results[1]["records"] == ref  # each returns a single worker's records
    assert not list(out.glob("*.claim")) and not list(out.glob(".tmp-*"))
    assert not any(Path(f"{log}.opened").exists() for log in logs)


def test_two_workers_without_claims_duplicate(tmp_path):
    """Control for the test above: with claims off the same race computes points twice."""
    out, go = tmp_path / "store", tmp_path / "go"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [_store_child(tmp_path, "worker-noclaim", out, log, go) for log in logs]
    _start_together(go, procs)
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
    assert set(_logged(logs[0])) & set(_logged(logs[1]))
