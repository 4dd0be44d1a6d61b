"""Resumable grid runs: one JSON file per grid point, safe under crashes, damage and parallel workers.

The store is a folder (docs/fsl.md, "The sweep store"): ``point-<id>.json`` holds one finished
``{"point": ..., "result": ...}`` record, ``<id> = point_id(point)``.

* **Atomic writes.** A result is streamed into a temporary file ``.tmp-<id>~<pid>~<host>~*.json`` in
  the same folder, flushed, ``fsync``-ed and renamed over ``point-<id>.json`` (``os.replace``): a
  reader sees the whole record or no file, and a process killed at any moment loses at most the
  points in flight. A stray temporary file (its writer dead, or older than ``stale_after``) is
  deleted when the next run starts; it is never read.
* **Damage.** Every file is checked on load: it must read, parse as JSON, have exactly the keys
  ``point`` (an object) and ``result`` (an object), and ``point_id(record["point"])`` must equal the
  ``<id>`` of its name. A file that fails (truncated, not JSON, wrong shape, another point's result)
  is reported once with its path, moved aside to ``damaged/`` (kept, never deleted) and, by
  :func:`run_grid` / :func:`run_grid_batched`, recomputed; :func:`load_grid` leaves it out.
* **Claims.** Before computing a point a worker creates ``point-<id>.claim`` (``O_CREAT | O_EXCL``:
  exactly one worker succeeds) holding its host, pid and a token, and keeps its mtime fresh from a
  heartbeat thread. Other workers skip a claimed point and wait for its file. A claim is *stale*,
  and is taken over, when its owner is on this host and no longer runs, or when its mtime is older
  than ``stale_after`` seconds (a crashed worker on another host). So any number of workers (or
  hosts on a shared file system) may run the same grid on one folder at once: each point is
  computed once and every worker returns all records.
* **Write failures.** An ``OSError`` while writing (disk full, read-only folder) raises
  :class:`GridStoreError` naming the folder; the points finished before are kept, and the same call
  resumes once the folder is fixed.

``run_grid_batched(points, evaluate_many, out_dir, batch_size=...)`` is the same store for
evaluators that take many points at once (one vmapped or sharded call per batch, e.g. through
:func:`batchramp_theory.sharded_expected_risk`). Under ``jax.distributed`` every process computes,
only the writer (process 0 by default) writes, and claims are off (the processes of one job must
evaluate the same batches; run one job per folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "run_grid", "run_grid_batched", "point_id", "load_grid", "GridRun", "GridStoreError",
    "DamagedPointWarning", "STALE_AFTER", "DAMAGED_DIR",
]

# Seconds without a heartbeat after which another host's claim (or any temporary file) is stale.
STALE_AFTER = 120.0
# Sub-folder of the store where damaged point files are moved.
DAMAGED_DIR = "damaged"
_POLL = 0.1  # seconds between looks at points that another worker holds


class GridStoreError(OSError):
    """The store folder cannot be written (disk full, read-only, no permission); the message names it."""


class DamagedPointWarning(UserWarning):
    """A point file failed its check on load and was moved aside (the default ``report``)."""


class GridRun(list):
    """The records of a grid run, in the order of ``points`` (a ``list``), with what the run did.

    Attributes: ``computed`` (points this call evaluated, recovered ones included), ``reused``
    (valid files found), ``recovered`` (damaged files moved aside and recomputed), ``others``
    (points finished meanwhile by another worker) and ``damaged`` (the paths they were moved to).
    """

    def __init__(self, records=(), *, computed=0, reused=0, recovered=0, others=0, damaged=()):
        super().__init__(records)
        self.computed, self.reused, self.recovered, self.others = computed, reused, recovered, others
        self.damaged = list(damaged)

    def summary(self) -> str:
        """One line, e.g. ``"4 points: 2 computed, 2 reused, 1 recovered"``."""
        text = f"{len(self)} points: {self.computed} computed, {self.reused} reused, {self.recovered} recovered"
        if self.others:
            text += f", {self.others} by other workers"
        if self.damaged:
            text += f" (damaged files kept in {Path(self.damaged[0]).parent})"
        return text


def point_id(point: dict) -> str:
    """A stable file stem for a grid point (sorted-key JSON, hashed)."""
    blob = json.dumps(point, sort_keys=True, default=float)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _warn(message: str) -> None:
    warnings.warn(message, DamagedPointWarning, stacklevel=4)


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host runs (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class _Store:
    """One folder of point files, as seen by one worker (claims it holds, counts, reporting)."""

    def __init__(self, out_dir, *, report, stale_after, claims, writer=True, create=True):
        if isinstance(stale_after, bool) or not isinstance(stale_after, (int, float)) or not stale_after > 0:
            raise ValueError(f"stale_after must be a positive number of seconds, got {stale_after!r}")
        self.dir = Path(out_dir)
        self.report = report or _warn
        self.stale_after = float(stale_after)
        self.claims, self.writer = claims, writer
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.held: dict[Path, str] = {}
        self.moved: list[Path] = []
        self._lock, self._stop, self._beat = threading.Lock(), threading.Event(), None
        if create and writer:
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise GridStoreError(f"cannot create the grid folder {self.dir}: {exc}") from exc

    def path(self, pid: str) -> Path:
        return self.dir / f"point-{pid}.json"

    # -- reading -------------------------------------------------------------------------------
    def read(self, pid: str):
        """``(record, None)`` if valid, ``(None, None)`` if missing, ``(None, reason)`` if damaged."""
        path = self.path(pid)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None, None
        except (OSError, UnicodeDecodeError) as exc:
            return None, f"unreadable ({exc})"
        try:
            rec = json.loads(text)
        except ValueError as exc:
            return None, f"not valid JSON ({exc})" if text.strip() else "empty"
        if not (isinstance(rec, dict) and set(rec) == {"point", "result"}
                and isinstance(rec["point"], dict) and isinstance(rec["result"], dict)):
            return None, 'not a {"point": {...}, "result": {...}} record'
        if point_id(rec["point"]) != pid:
            return None, f"holds the result of another point ({json.dumps(rec['point'], sort_keys=True)[:200]})"
        return rec, None

    def move_aside(self, pid: str, reason: str, action: str) -> Path:
        src = self.path(pid)
        dest = self.dir / DAMAGED_DIR / f"{src.stem}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.bad"
        try:
            dest.parent.mkdir(exist_ok=True)
            os.replace(src, dest)
        except FileNotFoundError:
            return src  # moved by someone else meanwhile
        except OSError as exc:
            raise GridStoreError(f"damaged point file {src} ({reason}) cannot be moved aside in folder {self.dir}: {exc}") from exc
        self.moved.append(dest)
        self.report(f"damaged point file {src}: {reason}; moved to {dest}; {action}")
        return dest

    # -- claims --------------------------------------------------------------------------------
    def _claim_path(self, pid: str) -> Path:
        return self.dir / f"point-{pid}.claim"

    def _stale(self, path: Path):
        """``(stale, token)`` of an existing claim; ``(None, None)`` if it is gone."""
        try:
            age = time.time() - os.stat(path).st_mtime
            info = json.loads(path.read_text())
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError):
            info = None  # being written, or garbage: judged by age alone
        if not isinstance(info, dict):
            return age > self.stale_after, None
        dead = info.get("host") == self.host and isinstance(info.get("pid"), int) and not _pid_alive(info["pid"])
        return dead or age > self.stale_after, info.get("token")

    def _break(self, path: Path, token) -> None:
        """Remove the stale claim ``token``; a claim that replaced it meanwhile is put back."""
        tomb = path.with_name(f".tmp-{path.stem[6:]}~{self.pid}~{self.host}~{uuid.uuid4().hex}.stale")
        try:
            os.rename(path, tomb)
        except FileNotFoundError:
            return
        try:
            now = json.loads(tomb.read_text()).get("token")
        except (OSError, ValueError, AttributeError):
            now = None
        if now != token:
            with contextlib.suppress(OSError):
                os.link(tomb, path)  # a fresh claim: restore it (unless yet another one exists)
        with contextlib.suppress(OSError):
            os.unlink(tomb)

    def try_claim(self, pid: str) -> bool:
        if not self.claims:
            return True
        path = self._claim_path(pid)
        token = uuid.uuid4().hex
        blob = json.dumps({"host": self.host, "pid": self.pid, "token": token, "time": time.time()}).encode()
        for _ in range(4):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                stale, old = self._stale(path)
                if stale is False:
                    return False
                if stale:
                    self._break(path, old)
                continue
            except OSError as exc:
                raise GridStoreError(f"cannot claim a point in folder {self.dir}: {exc}") from exc
            try:
                os.write(fd, blob)
            finally:
                os.close(fd)
            with self._lock:
                self.held[path] = token
            self._start_heartbeat()
            return True
        return False

    def release(self, pid: str) -> None:
        if not self.claims:
            return
        path = self._claim_path(pid)
        with self._lock:
            token = self.held.pop(path, None)
        try:
            if token is not None and json.loads(path.read_text()).get("token") == token:
                os.unlink(path)
        except (OSError, ValueError, AttributeError):
            pass

    def _start_heartbeat(self) -> None:
        if self._beat is None:
            self._beat = threading.Thread(target=self._heartbeat, name="grid-claims", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(self.stale_after / 4, 30.0)):
            with self._lock:
                held = list(self.held)
            for path in held:
                with contextlib.suppress(OSError):
                    os.utime(path)

    # -- writing -------------------------------------------------------------------------------
    def clean_temporaries(self) -> None:
        """Delete stray temporary files: their writer is dead (this host) or they are stale by age."""
        for f in self.dir.glob(".tmp-*"):
            parts = f.name[5:].split("~")
            try:
                dead = len(parts) >= 4 and parts[2] == self.host and not _pid_alive(int(parts[1]))
                if dead or time.time() - f.stat().st_mtime > self.stale_after:
                    f.unlink()
            except (OSError, ValueError):
                pass

    def write(self, point: dict, pid: str, result) -> dict:
        """Write ``{"point", "result"}`` atomically; return the record as it reads back from disk."""
        if not isinstance(result, dict):
            raise ValueError(f"the evaluator must return a dict per point, got {type(result).__name__}")
        path, tmp = self.path(pid), None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".tmp-{pid}~{self.pid}~{self.host}~", suffix=".json")
            with os.fdopen(fd, "w") as fh:
                json.dump({"point": point, "result": result}, fh, default=float)
                fh.flush()
                os.fsync(fh.fileno())
            record = json.loads(Path(tmp).read_text())
            os.replace(tmp, path)
            tmp = None
            with contextlib.suppress(OSError):
                dfd = os.open(self.dir, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except OSError as exc:
            raise GridStoreError(
                f"cannot write {path.name} in the grid folder {self.dir}: {exc}. The points finished before are kept; "
                "free space or fix the folder's permissions and rerun the same command to resume") from exc
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return record

    def close(self) -> None:
        self._stop.set()
        for path in list(self.held):
            self.release(path.stem[6:])


def load_grid(out_dir: Path, *, report: Callable[[str], None] | None = None) -> list[dict]:
    """All valid ``{"point": ..., "result": ...}`` records in ``out_dir`` (sorted by file name).

    A damaged file (the checks of this module's docstring) is reported once through ``report``
    (default: a :class:`DamagedPointWarning`), moved to ``out_dir/damaged/`` and left out; one that
    another worker has claimed is reported and left in place for it.
    """
    store = _Store(out_dir, report=report, stale_after=STALE_AFTER, claims=True, create=False)
    records = []
    try:
        for f in sorted(store.dir.glob("point-*.json")):
            pid = f.stem[6:]
            rec, reason = store.read(pid)
            if reason is not None:
                try:
                    if store.try_claim(pid):
                        rec, reason = store.read(pid)
                        if reason is not None:
                            store.move_aside(pid, reason, "left out (rerun the grid to recompute it)")
                    else:
                        store.report(f"damaged point file {f}: {reason}; another worker holds its claim, left in place")
                except GridStoreError as exc:
                    store.report(f"{exc}; left out")
                    rec = None
                finally:
                    store.release(pid)
            if rec is not None:
                records.append(rec)
    finally:
        store.close()
    return records


def _drive(store: _Store, points: dict, done: dict, evaluate_many, batch_size: int, advance) -> GridRun:
    """Claim, evaluate and write every point of ``points`` (id -> point) not in ``done``."""
    run = GridRun(reused=len(done))
    pending = [i for i in points if i not in done]
    while pending:
        batch, waiting = [], []
        for i in pending:
            if len(batch) == batch_size:
                waiting.append(i)
                continue
            if not store.try_claim(i):
                rec, _ = store.read(i)  # held by a live worker: done yet?
                if rec is None:
                    waiting.append(i)
                else:
                    done[i], run.others = rec, run.others + 1
                    advance(1)
                continue
            rec, reason = store.read(i)  # under the claim: finished by another worker since our scan?
            if rec is not None:
                store.release(i)
                done[i], run.others = rec, run.others + 1
                advance(1)
                continue
            if reason is not None and store.writer:
                store.move_aside(i, reason, "recomputing it")
                run.recovered += 1
            batch.append(i)
        if batch:
            try:
                results = list(evaluate_many([points[i] for i in batch]))
                if len(results) != len(batch):
                    raise ValueError(f"evaluate_many returned {len(results)} results for {len(batch)} points")
                for i, res in zip(batch, results):
                    done[i] = store.write(points[i], i, res) if store.writer else None
                    run.computed += 1
            finally:
                for i in batch:
                    store.release(i)
            advance(len(batch))
        elif waiting:
            time.sleep(_POLL)
        pending = waiting
    run.damaged = list(store.moved)
    return run


def _run(points, evaluate_many, out_dir, *, batch_size, progress, description, claims, writer, stale_after, report):
    points = list(points)
    ids = [point_id(p) for p in points]
    store = _Store(out_dir, report=report, stale_after=stale_after, claims=claims and writer, writer=writer)
    try:
        if writer:
            store.clean_temporaries()
        unique: dict[str, dict] = {}
        for i, p in zip(ids, points):
            unique.setdefault(i, p)  # a repeated point is evaluated once
        done = {}
        for i in unique:
            rec, _ = store.read(i)
            if rec is not None:
                done[i] = rec
        todo = len(unique) - len(done)
        if progress and todo:
            from rich.progress import Progress

            with Progress(transient=True) as prog:
                task = prog.add_task(f"{description} ({len(done)} done before)", total=todo)
                run = _drive(store, unique, done, evaluate_many, batch_size, lambda n: prog.advance(task, n))
        else:
            run = _drive(store, unique, done, evaluate_many, batch_size, lambda n: None)
    finally:
        store.close()
    if writer:
        records = [done[i] for i in ids]
    else:  # a non-writer process gets what the writer has written so far
        records = [rec for rec in (store.read(i)[0] for i in ids) if rec is not None]
    return GridRun(records, computed=run.computed, reused=run.reused, recovered=run.recovered, others=run.others,
                   damaged=run.damaged)


def run_grid(
    points: Iterable[dict],
    evaluate: Callable[[dict], dict],
    out_dir: Path,
    *,
    progress: bool = True,
    description: str = "grid",
    claim: bool = True,
    stale_after: float = STALE_AFTER,
    report: Callable[[str], None] | None = None,
) -> GridRun:
    """Evaluate every unfinished point and return all records in the order of ``points``.

    ``evaluate(point) -> dict``; each result is written atomically to ``out_dir`` as soon as it is
    finished, so a rerun after a crash resumes (this module's docstring). A damaged point file is
    reported through ``report(message)`` (default: a :class:`DamagedPointWarning`), moved to
    ``out_dir/damaged/`` and recomputed. With ``claim`` (default) each point is claimed before it is
    computed, so workers running the same grid on one folder at once compute each point once (a
    claim is stale after ``stale_after`` seconds without a heartbeat, or at once if its owner on
    this host is dead). Returns a :class:`GridRun` (a list of records with the counts computed /
    reused / recovered). Raises :class:`GridStoreError` if the folder cannot be written.
    """
    return _run(points, lambda pts: [evaluate(p) for p in pts], out_dir, batch_size=1, progress=progress,
                description=description, claims=claim, writer=True, stale_after=stale_after, report=report)


def run_grid_batched(
    points: Iterable[dict],
    evaluate_many: Callable[[list[dict]], list[dict]],
    out_dir: Path,
    *,
    batch_size: int = 64,
    progress: bool = True,
    description: str = "grid",
    writer: bool | None = None,
    claim: bool | None = None,
    stale_after: float = STALE_AFTER,
    report: Callable[[str], None] | None = None,
) -> GridRun:
    """Like :func:`run_grid`, but ``evaluate_many(list of points) -> list of results`` per batch.

    Only unfinished points are evaluated (duplicates in ``points`` once), in batches of at most
    ``batch_size``; every result is written atomically as soon as its batch returns, so a sweep
    killed at any moment loses at most the batch in flight and a rerun resumes. ``writer``
    (default: ``jax.process_index() == 0``) says whether this process writes: under
    ``jax.distributed`` all processes evaluate every batch together (sharded) and one writes.
    ``claim`` (default: on when ``jax.process_count() == 1``) claims each batch's points before
    evaluating them, as in :func:`run_grid`; it must be off when several processes evaluate the
    same batches together. Damaged files, ``stale_after`` and ``report`` as in :func:`run_grid`.
    Returns a :class:`GridRun` of all records in the order of ``points`` (a non-writer process gets
    the records the writer has written so far, after a barrier if it needs them).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if writer is None or claim is None:
        import jax

        writer = jax.process_index() == 0 if writer is None else writer
        claim = jax.process_count() == 1 if claim is None else claim
    return _run(points, evaluate_many, out_dir, batch_size=batch_size, progress=progress, description=description,
                claims=claim, writer=writer, stale_after=stale_after, report=report)
