"""Resumable grid runs: one JSON file per grid point, safe under crashes, damage and parallel workers.

The store is a folder (docs/fsl.md, "The sweep store", has the full contract): ``point-<id>.json``
holds one finished ``{"point": ..., "result": ...}`` record, ``<id> = point_id(point)``.

* **Atomic writes.** A result is streamed into ``.tmp-<id>~<pid>~<host>~*.json``, ``fsync``-ed and
  renamed over ``point-<id>.json``: a reader sees the whole record or no file. Stray temporary files
  (writer dead, or older than ``stale_after``) are deleted by the next run, never read.
* **Damage.** A file that does not read, parse, have exactly the object keys ``point`` and
  ``result``, or hash to its own name is reported once with its path, moved to ``damaged/`` (kept)
  and recomputed by :func:`run_grid` / :func:`run_grid_batched`; :func:`load_grid` leaves it out.
* **Claims.** A worker creates ``point-<id>.claim`` (``O_CREAT | O_EXCL``) before computing a point
  and a heartbeat keeps its mtime fresh; others skip the point and wait for its file. A claim whose
  owner on this host is dead, or whose mtime is older than ``stale_after``, is taken over.
* **Write failures** (disk full, read-only folder) raise :class:`GridStoreError` naming the folder;
  finished points are kept and a rerun resumes.

:func:`run_grid_batched` is the same store for evaluators that take many points at once. Under
``jax.distributed`` every process computes, only the writer writes, and claims are off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
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
        self.computed, self.reused, self.recovered, self.others, self.damaged = computed, reused, recovered, others, list(damaged)

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
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _token(path: Path):
    """The ``token`` of a claim file (``None`` if unreadable)."""
    try:
        return json.loads(path.read_text()).get("token")
    except (OSError, ValueError, AttributeError):
        return None


class _Store:
    """One folder of point files as one worker sees it: the claims it holds and the files it moved."""

    def __init__(self, out_dir, *, report, stale_after, claims, writer=True, create=True):
        if isinstance(stale_after, bool) or not isinstance(stale_after, (int, float)) or not 0 < stale_after < math.inf:
            raise ValueError(f"stale_after must be a positive number of seconds, got {stale_after!r}")
        self.dir, self.report, self.stale_after = Path(out_dir), report or _warn, float(stale_after)
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

    def path(self, key: str, ext: str = "json") -> Path:
        return self.dir / f"point-{key}.{ext}"

    def read(self, key: str):
        """``(record, None)`` if valid, ``(None, None)`` if missing, ``(None, reason)`` if damaged."""
        try:
            text = self.path(key).read_text()
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
        if point_id(rec["point"]) != key:
            return None, f"holds the result of another point ({json.dumps(rec['point'], sort_keys=True)[:200]})"
        return rec, None

    def move_aside(self, key: str, reason: str, action: str) -> None:
        src = self.path(key)
        dest = self.dir / DAMAGED_DIR / f"{src.stem}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.bad"
        try:
            dest.parent.mkdir(exist_ok=True)
            os.replace(src, dest)
        except FileNotFoundError:
            return  # moved by someone else meanwhile
        except OSError as exc:
            raise GridStoreError(f"damaged point file {src} ({reason}) cannot be moved aside in folder {self.dir}: {exc}") from exc
        self.moved.append(dest)
        self.report(f"damaged point file {src}: {reason}; moved to {dest}; {action}")

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
        pid = info.get("pid")
        dead = info.get("host") == self.host and isinstance(pid, int) and not _pid_alive(pid)
        return dead or age > self.stale_after, info.get("token")

    def _break(self, path: Path, token) -> None:
        """Remove the stale claim ``token``; a claim that replaced it meanwhile is put back."""
        tomb = path.with_name(f".tmp-{path.stem[6:]}~{self.pid}~{self.host}~{uuid.uuid4().hex}.stale")
        try:
            os.rename(path, tomb)
        except FileNotFoundError:
            return
        if _token(tomb) != token:
            with contextlib.suppress(OSError):
                os.link(tomb, path)  # a fresh claim: restore it (unless yet another one exists)
        with contextlib.suppress(OSError):
            os.unlink(tomb)

    def try_claim(self, key: str) -> bool:
        """Claim ``key`` (True), or False if a live worker holds it; stale claims are taken over."""
        if not self.claims:
            return True
        path, token = self.path(key, "claim"), uuid.uuid4().hex
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
                raise GridStoreError(f"cannot claim a point in the grid folder {self.dir}: {exc}") from exc
            try:
                os.write(fd, json.dumps({"host": self.host, "pid": self.pid, "token": token}).encode())
            except OSError as exc:
                os.unlink(path)
                raise GridStoreError(f"cannot claim a point in the grid folder {self.dir}: {exc}") from exc
            finally:
                os.close(fd)
            with self._lock:
                self.held[path] = token
            if self._beat is None:
                self._beat = threading.Thread(target=self._heartbeat, name="grid-claims", daemon=True)
                self._beat.start()
            return True
        return False

    def release(self, key: str) -> None:
        path = self.path(key, "claim")
        with self._lock:
            token = self.held.pop(path, None)
        if token is not None and _token(path) == token:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(self.stale_after / 4, 30.0)):
            with self._lock:
                held = list(self.held)
            for path in held:
                with contextlib.suppress(OSError):
                    os.utime(path)

    def clean_temporaries(self) -> None:
        """Delete stray temporary files: their writer (this host) is dead, or they are older than stale_after."""
        for f in self.dir.glob(".tmp-*"):
            parts = f.name[5:].split("~")
            with contextlib.suppress(OSError, ValueError):
                dead = len(parts) >= 4 and parts[2] == self.host and not _pid_alive(int(parts[1]))
                if dead or time.time() - f.stat().st_mtime > self.stale_after:
                    f.unlink()

    def write(self, point: dict, key: str, result) -> dict:
        """Write ``{"point", "result"}`` atomically; return the record as it reads back from disk."""
        if not isinstance(result, dict):
            raise ValueError(f"the evaluator must return a dict per point, got {type(result).__name__}")
        path, tmp = self.path(key), None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".tmp-{key}~{self.pid}~{self.host}~", suffix=".json")
            with os.fdopen(fd, "w") as fh:
                json.dump({"point": point, "result": result}, fh, default=float)
                fh.flush()
                os.fsync(fh.fileno())
            record = json.loads(Path(tmp).read_text())
            os.replace(tmp, path)
            tmp = None
            with contextlib.suppress(OSError):  # make the rename itself durable
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
            key = f.stem[6:]
            rec, reason = store.read(key)
            if reason is not None:
                try:
                    if not store.try_claim(key):
                        store.report(f"damaged point file {f}: {reason}; another worker holds its claim, left in place")
                    elif (why := store.read(key)[1]) is not None:
                        store.move_aside(key, why, "left out (rerun the grid to recompute it)")
                except GridStoreError as exc:
                    store.report(f"{exc}; left out")
                finally:
                    store.release(key)
                rec = store.read(key)[0]  # valid if another worker rewrote it meanwhile
            if rec is not None:
                records.append(rec)
    finally:
        store.close()
    return records


def _drive(store: _Store, points: dict, done: dict, evaluate_many, batch_size: int, advance) -> GridRun:
    """Claim, evaluate and write every point of ``points`` (key -> point) not in ``done``."""
    run = GridRun(reused=len(done))
    pending = [i for i in points if i not in done]
    while pending:
        batch, waiting = [], []
        for i in pending:
            if len(batch) == batch_size:
                waiting.append(i)
                continue
            claimed = store.try_claim(i)
            rec, reason = store.read(i)  # finished by another worker since our scan?
            if rec is None and claimed:
                if reason is not None and store.writer:
                    store.move_aside(i, reason, "recomputing it")
                    run.recovered += 1
                batch.append(i)
                continue
            if claimed:
                store.release(i)
            if rec is None:
                waiting.append(i)  # a live worker holds it
            else:
                done[i], run.others = rec, run.others + 1
                advance(1)
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
        run.extend(done[i] for i in ids)
    else:  # what the writer has written so far
        run.extend(r for r in (store.read(i)[0] for i in ids) if r is not None)
    return run


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
    finished, so a rerun resumes (this module's docstring). A damaged point file is reported through
    ``report(message)`` (default: a :class:`DamagedPointWarning`), moved to ``out_dir/damaged/`` and
    recomputed. With ``claim``, workers sharing ``out_dir`` compute each point once (a claim is stale
    after ``stale_after`` seconds without a heartbeat, or at once if its owner on this host is
    dead). Returns a :class:`GridRun` (the records, and the counts computed / reused / recovered).
    Raises :class:`GridStoreError` if the folder cannot be written.
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

    Only unfinished points are evaluated (duplicates once), in batches of at most ``batch_size``
    (e.g. one :func:`batchramp_theory.sharded_expected_risk` call each); every result is written
    atomically as soon as its batch returns. ``writer`` (default: ``jax.process_index() == 0``):
    whether this process writes; under ``jax.distributed`` all processes evaluate every batch
    together and one writes. ``claim`` (default: ``jax.process_count() == 1``) claims each batch's
    points first, as in :func:`run_grid`; it must be off when processes evaluate batches together.
    Damaged files, ``stale_after``, ``report`` and the returned :class:`GridRun` as in
    :func:`run_grid` (a non-writer gets the records the writer has written so far).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if writer is None or claim is None:
        import jax

        writer = jax.process_index() == 0 if writer is None else writer
        claim = jax.process_count() == 1 if claim is None else claim
    return _run(points, evaluate_many, out_dir, batch_size=batch_size, progress=progress, description=description,
                claims=claim, writer=writer, stale_after=stale_after, report=report)
