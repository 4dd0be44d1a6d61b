"""The grid store under faults, in one process (cheap; no JAX): damaged point files, a writer that
fails mid-write, write errors (disk full, read-only), stray temporary files, stale and live claims.

The real-process cases (SIGKILL in the middle of a write, two workers at once) are in
tests/test_grid_resume.py. Every "nothing lost" assertion compares with an undamaged run's records,
and each detection has a control showing that the damage would change the answer if it went unseen.
"""

import errno
import json
import math
import os
import socket
import threading
import time

import pytest

from batchramp_theory import grid
from batchramp_theory.grid import GridRun, GridStoreError, load_grid, point_id, run_grid, run_grid_batched

POINTS = [{"x": float(i), "tag": f"p{i}"} for i in range(5)]


def _evaluate(point):
    return {"root": math.sqrt(point["x"]), "cube": point["x"] ** 3, "series": [point["x"] / (k + 1) for k in range(4)]}


class Counter:
    def __init__(self):
        self.calls = []

    def __call__(self, point):
        self.calls.append(point["x"])
        return _evaluate(point)


def _path(out, point):
    return out / f"point-{point_id(point)}.json"


@pytest.fixture
def reference(tmp_path):
    return run_grid(POINTS, _evaluate, tmp_path / "ref", progress=False)


def _damage(kind, target, out):
    other = _path(out, POINTS[0])
    if kind == "truncated":
        target.write_bytes(target.read_bytes()[:7])
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "not_json":
        target.write_bytes(b"\x00\xff garbage \x89PNG")
    elif kind == "json_list":
        target.write_text("[1, 2, 3]")
    elif kind == "missing_result":
        target.write_text(json.dumps({"point": json.loads(target.read_text())["point"]}))
    elif kind == "result_not_object":
        target.write_text(json.dumps({"point": json.loads(target.read_text())["point"], "result": 3.0}))
    elif kind == "another_point":
        target.write_bytes(other.read_bytes())  # e.g. a copy gone wrong
    elif kind == "unreadable":
        target.unlink()
        target.mkdir()  # a read gives IsADirectoryError
    else:  # pragma: no cover
        raise AssertionError(kind)


KINDS = ["truncated", "empty", "not_json", "json_list", "missing_result", "result_not_object", "another_point", "unreadable"]


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_point_is_reported_moved_aside_and_recomputed(tmp_path, reference, kind):
    out = tmp_path / "run"
    run_grid(POINTS, _evaluate, out, progress=False)
    target = _path(out, POINTS[3])
    _damage(kind, target, out)
    damaged_bytes = None if kind == "unreadable" else target.read_bytes()
    messages, count = [], Counter()
    recs = run_grid(POINTS, count, out, progress=False, report=messages.append)
    assert recs == reference  # the final aggregate equals an undamaged run's
    assert count.calls == [3.0]  # only the damaged point was recomputed
    assert (recs.computed, recs.reused, recs.recovered, recs.others) == (1, 4, 1, 0)
    assert len(messages) == 1 and str(target) in messages[0] and "moved to" in messages[0]
    (kept,) = (out / grid.DAMAGED_DIR).iterdir()  # moved aside, not deleted
    assert str(kept) in messages[0] and recs.damaged == [kept]
    if damaged_bytes is not None:
        assert kept.read_bytes() == damaged_bytes
    assert json.loads(target.read_text()) == reference[3]
    # Reported once: the next run finds nothing wrong and computes nothing.
    again = run_grid(POINTS, count, out, progress=False, report=messages.append)
    assert again == reference and len(messages) == 1 and count.calls == [3.0] and again.recovered == 0


def test_another_points_file_would_change_the_aggregate_if_unchecked(tmp_path, reference):
    """Control for the identity check: read naively, the copied file silently gives a wrong record."""
    out = tmp_path / "run"
    run_grid(POINTS, _evaluate, out, progress=False)
    target = _path(out, POINTS[3])
    _damage("another_point", target, out)
    assert json.loads(target.read_text()) != reference[3]


@pytest.mark.parametrize("kind", ["truncated", "another_point", "unreadable"])
def test_load_grid_leaves_damaged_files_out(tmp_path, reference, kind):
    out = tmp_path / "run"
    run_grid(POINTS, _evaluate, out, progress=False)
    target = _path(out, POINTS[2])
    _damage(kind, target, out)
    with pytest.warns(grid.DamagedPointWarning, match=str(target.name)):
        recs = load_grid(out)
    assert sorted(map(json.dumps, recs)) == sorted(json.dumps(r) for i, r in enumerate(reference) if i != 2)
    assert not target.exists() and len(list((out / grid.DAMAGED_DIR).iterdir())) == 1
    messages = []
    assert load_grid(out, report=messages.append) == recs and messages == []  # reported once
    assert load_grid(tmp_path / "missing") == []


class _Explodes:
    """A result value whose serialisation fails (or, in a child process, blocks): mid-write by construction.

    ``json.dump(..., default=float)`` calls ``float(obj)`` only when it reaches this value, after the
    bulk written before it; a writer that opened the final file directly would leave a partial one.
    """

    def __float__(self):
        raise RuntimeError("writer dies mid-write")


def _bulky(point):
    res = _evaluate(point)
    return {"bulk": [point["x"]] * 4000, **res}  # > 8 KiB before the value below: it reaches the disk


def test_writer_failing_mid_write_leaves_no_half_result(tmp_path):
    out = tmp_path / "run"

    def evaluate(point):
        res = _bulky(point)
        if point["x"] == 2.0:
            res["boom"] = _Explodes()
        return res

    with pytest.raises(RuntimeError, match="mid-write"):
        run_grid(POINTS, evaluate, out, progress=False)
    assert sorted(os.listdir(out)) == sorted(_path(out, p).name for p in POINTS[:2])  # no temp, no claim, no half file
    for p in POINTS[:2]:
        assert json.loads(_path(out, p).read_text())["result"] == json.loads(json.dumps(_bulky(p)))
    count = Counter()
    recs = run_grid(POINTS, lambda p: count(p) and _bulky(p), out, progress=False)
    assert count.calls == [2.0, 3.0, 4.0] and recs.recovered == 0
    assert recs == run_grid(POINTS, _bulky, tmp_path / "ref", progress=False)


@pytest.mark.parametrize("code,where", [(errno.ENOSPC, "fsync"), (errno.EROFS, "mkstemp")])
def test_write_error_names_the_folder_and_keeps_finished_points(tmp_path, monkeypatch, reference, code, where):
    out = tmp_path / "run"
    real = {"fsync": os.fsync, "mkstemp": grid.tempfile.mkstemp}[where]
    state = {"full": False}

    def failing(*args, **kwargs):
        if state["full"]:
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    def evaluate(point):
        state["full"] = point["x"] == 2.0  # the disk fills up while the third point is written
        return _evaluate(point)

    monkeypatch.setattr(os if where == "fsync" else grid.tempfile, where, failing)
    with pytest.raises(GridStoreError, match=os.strerror(code)) as info:
        run_grid(POINTS, evaluate, out, progress=False)
    assert str(out) in str(info.value) and "rerun" in str(info.value)
    assert isinstance(info.value, OSError)
    monkeypatch.undo()
    assert sorted(os.listdir(out)) == sorted(_path(out, p).name for p in POINTS[:2])  # finished points kept, no debris
    count = Counter()
    assert run_grid(POINTS, count, out, progress=False) == reference
    assert count.calls == [2.0, 3.0, 4.0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(tmp_path, reference):
    out = tmp_path / "run"
    run_grid(POINTS[:2], _evaluate, out, progress=False)
    os.chmod(out, 0o555)
    try:
        with pytest.raises(GridStoreError, match=str(out)):
            run_grid(POINTS, _evaluate, out, progress=False)
        assert load_grid(out) == reference[:2]
    finally:
        os.chmod(out, 0o755)


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stray_temporary_files_are_ignored_and_cleaned(tmp_path, reference):
    out = tmp_path / "run"
    out.mkdir()
    host, pid = socket.gethostname(), _dead_pid()
    ident = point_id(POINTS[1])
    dead = out / f".tmp-{ident}~{pid}~{host}~abc.json"
    dead.write_text('{"point": {"x": 1.0, "tag": "p1"}, "result": {"ro')  # a crash mid-write
    old = out / ".tmp-k2j4x9.json"  # the earlier naming (no owner), a day old
    old.write_text("{}")
    os.utime(old, (time.time() - 86400,) * 2)
    live = out / f".tmp-{ident}~{os.getpid()}~{host}~xyz.json"  # a live writer's: must survive
    live.write_text("{")
    recs = run_grid(POINTS, _evaluate, out, progress=False)
    assert recs == reference and recs.computed == 5
    assert not dead.exists() and not old.exists() and live.exists()


def _claim(out, point, host, pid, age=0.0):
    path = out / f"point-{point_id(point)}.claim"
    path.write_text(json.dumps({"host": host, "pid": pid, "token": "t"}))
    os.utime(path, (time.time() - age,) * 2)
    return path


def test_stale_claims_are_taken_over(tmp_path, reference):
    out = tmp_path / "run"
    out.mkdir()
    dead = _claim(out, POINTS[0], socket.gethostname(), _dead_pid())  # a crashed worker on this host
    far = _claim(out, POINTS[1], "other-host", 1, age=3600)  # silent for an hour on another host
    garbage = out / f"point-{point_id(POINTS[2])}.claim"
    garbage.write_text("")
    os.utime(garbage, (time.time() - 3600,) * 2)
    count = Counter()
    t0 = time.monotonic()
    recs = run_grid(POINTS, count, out, progress=False, stale_after=60)
    assert time.monotonic() - t0 < 30  # nothing waited for the stale claims to age further
    assert recs == reference and sorted(count.calls) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert not dead.exists() and not far.exists() and not garbage.exists()


def test_fresh_foreign_claim_waits_until_stale(tmp_path, reference):
    out = tmp_path / "run"
    out.mkdir()
    _claim(out, POINTS[4], "other-host", 1)  # fresh, and never heartbeats again
    count = Counter()
    t0 = time.monotonic()
    recs = run_grid(POINTS, count, out, progress=False, stale_after=0.6)
    assert time.monotonic() - t0 >= 0.5  # waited for the claim to go stale ...
    assert recs == reference and sorted(count.calls) == [0.0, 1.0, 2.0, 3.0, 4.0]  # ... then computed it


def test_live_claim_is_respected_and_its_result_used(tmp_path, reference):
    """Another worker (a thread posing as a live process of this host) holds a point and finishes it."""
    out = tmp_path / "run"
    out.mkdir()
    claim = _claim(out, POINTS[2], socket.gethostname(), os.getppid())

    def other_worker():
        time.sleep(0.4)
        _path(out, POINTS[2]).write_text(json.dumps({"point": POINTS[2], "result": _evaluate(POINTS[2])}))
        claim.unlink()

    thread = threading.Thread(target=other_worker)
    thread.start()
    count = Counter()
    recs = run_grid(POINTS, count, out, progress=False)
    thread.join()
    assert recs == reference and 2.0 not in count.calls and recs.others == 1 and recs.computed == 4
    # Control: without claims the same situation computes the held point a second time.
    claim = _claim(out, POINTS[3], socket.gethostname(), os.getppid())
    _path(out, POINTS[3]).unlink()
    count = Counter()
    run_grid(POINTS, count, out, progress=False, claim=False)
    assert count.calls == [3.0]


def test_grid_run_counts_and_bad_input(tmp_path):
    out = tmp_path / "run"
    recs = run_grid(POINTS + POINTS[:1], _evaluate, out, progress=False)  # a repeated point runs once
    assert isinstance(recs, GridRun) and len(recs) == 6 and recs.computed == 5
    assert recs.summary() == "6 points: 5 computed, 0 reused, 0 recovered"
    assert not list(out.glob("*.claim"))  # claims released
    batched = run_grid_batched(POINTS, lambda ps: [_evaluate(p) for p in ps], out, batch_size=2, progress=False,
                               writer=True, claim=True)
    assert batched == recs[:5] and batched.reused == 5 and batched.computed == 0
    with pytest.raises(ValueError, match="stale_after"):
        run_grid(POINTS, _evaluate, out, stale_after=0)
    with pytest.raises(ValueError, match="must return a dict"):
        run_grid([{"x": 9.0}], lambda p: 3.0, out, progress=False)
    assert not list(out.glob("*.claim")) and not list(out.glob(".tmp-*"))
