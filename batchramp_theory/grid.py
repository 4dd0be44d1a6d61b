"""Resumable grid runs: one JSON file per grid point, written atomically.

``run_grid(points, evaluate, out_dir)`` evaluates ``evaluate(point) -> dict`` for every
point whose result file is missing, writing each result as soon as it is finished
(write to a temporary file in the same folder, then ``os.replace``: a reader never sees a
half-written file, and a sweep killed at any moment loses at most the point in flight).
Rerunning with the same ``out_dir`` skips finished points: nothing is lost or duplicated.

``run_grid_batched(points, evaluate_many, out_dir, batch_size=...)`` is the same store for
evaluators that take many points at once (one vmapped or sharded call per batch, e.g. through
:func:`batchramp_theory.sharded_expected_risk`): the unfinished points are evaluated in batches
and each result is still written as its own atomic file. Under ``jax.distributed`` every
process computes and only the writer (process 0 by default) writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["run_grid", "run_grid_batched", "point_id", "load_grid"]


def point_id(point: dict) -> str:
    """A stable file stem for a grid point (sorted-key JSON, hashed)."""
    blob = json.dumps(point, sort_keys=True, default=float)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _atomic_write(path: Path, payload: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, default=float)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_grid(out_dir: Path) -> list[dict]:
    """All finished ``{"point": ..., "result": ...}`` records in ``out_dir``."""
    out_dir = Path(out_dir)
    return [json.loads(p.read_text()) for p in sorted(out_dir.glob("point-*.json"))]


def run_grid(
    points: Iterable[dict],
    evaluate: Callable[[dict], dict],
    out_dir: Path,
    *,
    progress: bool = True,
    description: str = "grid",
) -> list[dict]:
    """Evaluate every unfinished point and return all records in the order of ``points``."""
    points = list(points)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"point-{point_id(p)}.json" for p in points]
    todo = [(p, path) for p, path in zip(points, paths) if not path.exists()]
    if progress and todo:
        from rich.progress import Progress

        with Progress(transient=True) as prog:
            task = prog.add_task(f"{description} ({len(points) - len(todo)} done before)", total=len(todo))
            for p, path in todo:
                _atomic_write(path, {"point": p, "result": evaluate(p)})
                prog.advance(task)
    else:
        for p, path in todo:
            _atomic_write(path, {"point": p, "result": evaluate(p)})
    return [json.loads(path.read_text()) for path in paths]


def run_grid_batched(
    points: Iterable[dict],
    evaluate_many: Callable[[list[dict]], list[dict]],
    out_dir: Path,
    *,
    batch_size: int = 64,
    progress: bool = True,
    description: str = "grid",
    writer: bool | None = None,
) -> list[dict]:
    """Like :func:`run_grid`, but ``evaluate_many(list of points) -> list of results`` per batch.

    Only unfinished points are evaluated (duplicates in ``points`` once), in batches of at most
    ``batch_size``; every result is written atomically as soon as its batch returns, so a sweep
    killed at any moment loses at most the batch in flight and a rerun resumes. ``writer``
    (default: ``jax.process_index() == 0``) says whether this process writes: under
    ``jax.distributed`` all processes evaluate every batch together (sharded) and one writes.
    Returns all records in the order of ``points`` (read back from ``out_dir``; a non-writer
    process gets the records the writer has written so far, after a barrier if it needs them).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if writer is None:
        import jax

        writer = jax.process_index() == 0
    points = list(points)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"point-{point_id(p)}.json" for p in points]
    todo, seen = [], set()
    for p, path in zip(points, paths):
        if path not in seen and not path.exists():
            todo.append((p, path))
        seen.add(path)
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]

    def do(batch):
        results = evaluate_many([p for p, _ in batch])
        if len(results) != len(batch):
            raise ValueError(f"evaluate_many returned {len(results)} results for {len(batch)} points")
        if writer:
            for (p, path), res in zip(batch, results):
                _atomic_write(path, {"point": p, "result": res})

    if progress and todo:
        from rich.progress import Progress

        with Progress(transient=True) as prog:
            task = prog.add_task(f"{description} ({len(points) - len(todo)} done before)", total=len(todo))
            for batch in batches:
                do(batch)
                prog.advance(task, len(batch))
    else:
        for batch in batches:
            do(batch)
    return [json.loads(path.read_text()) for path in paths if path.exists()]
