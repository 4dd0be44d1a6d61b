"""Resumable grid runs: one JSON file per grid point, written atomically.

``run_grid(points, evaluate, out_dir)`` evaluates ``evaluate(point) -> dict`` for every
point whose result file is missing, writing each result as soon as it is finished
(write to a temporary file in the same folder, then ``os.replace``: a reader never sees a
half-written file, and a sweep killed at any moment loses at most the point in flight).
Rerunning with the same ``out_dir`` skips finished points: nothing is lost or duplicated.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["run_grid", "point_id", "load_grid"]


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
