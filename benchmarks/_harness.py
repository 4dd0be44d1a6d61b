"""Shared plumbing for the benchmarks: arguments, machine description, interleaved timing, reports.

Every benchmark is a plain script, ``python benchmarks/<name>.py [--quick] [--json OUT]``. It runs
on JAX's default backend (CPU, GPU or TPU), prints the device, and reports *ratios measured in
the same run* (each against a baseline timed in the same process, interleaved with it), so that
a number read on a shared or noisy machine still means something. ``--json`` writes a
self-describing record: what was measured and how (``definitions``), on what (``machine``), the
raw timings (``results``) and the ratios with their targets (``ratios``).

Timing: each function is called once to compile (not timed), then the functions are timed in
interleaved rounds (A B C A B C ...), each call synchronised with ``block_until_ready``; the
reported time is the minimum over rounds (the least disturbed by other processes), the median
is kept alongside.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# Run against this source tree (benchmarks measure the code next to them), even if another copy
# of the package is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse(description: str, extra=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="small sizes (a minute or so on a laptop CPU)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="write the self-describing results here")
    ap.add_argument("--repeat", type=int, default=None, help="timed rounds per function (default 9, quick 5)")
    ap.add_argument("--x32", action="store_true", help="float32 instead of the library's float64 default")
    if extra is not None:
        extra(ap)
    args = ap.parse_args()
    if args.repeat is None:
        args.repeat = 5 if args.quick else 9
    import jax

    # Scripts (not the library) choose the precision: float64 like the tests and the CLI.
    jax.config.update("jax_enable_x64", not args.x32)
    return args


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """CPU, cores, memory, load, accelerator and library versions."""
    import jax
    import jaxlib
    import numpy as np

    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        mem = None
    devs = jax.devices()
    info = {
        "cpu_model": _cpu_model(),
        "cpu_cores_visible": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_bytes": mem,
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in devs],
        "device_kind": devs[0].device_kind,
        "device_count": len(devs),
        "x64": bool(jax.config.jax_enable_x64),
        "default_prng_impl": str(jax.config.jax_default_prng_impl),
        "threefry_partitionable": bool(jax.config.jax_threefry_partitionable),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    return info


def sync(x):
    import jax

    return jax.block_until_ready(x)


def time_interleaved(fns: dict, repeat: int) -> dict:
    """``{name: {"min_s", "median_s", "all_s"}}``; each ``fn()`` is called once untimed first (compile)."""
    for fn in fns.values():
        sync(fn())
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            sync(fn())
            times[name].append(time.perf_counter() - t0)
    return {k: {"min_s": min(v), "median_s": statistics.median(v), "all_s": v} for k, v in times.items()}


class Report:
    """Collects results and ratios; prints a table; writes the JSON record."""

    def __init__(self, name: str, description: str, args, definitions: dict | None = None):
        self.name = name
        self.description = description
        self.args = args
        self.definitions = dict(definitions or {})
        self.definitions.setdefault(
            "timing", "min over interleaved rounds after one untimed compile call; median kept in results"
        )
        self.results: list[dict] = []
        self.ratios: list[dict] = []
        self.t0 = time.perf_counter()
        self.machine = machine()
        m = self.machine
        print(f"[{name}] {description}")
        print(f"  device: {m['backend']} {m['device_kind']} x{m['device_count']} | CPU {m['cpu_model']} "
              f"({m['cpu_cores_visible']} cores, load {m['load_average_1_5_15']}) | jax {m['jax']} | x64 {m['x64']}")

    def result(self, name: str, value: float, unit: str, **context) -> None:
        self.results.append({"name": name, "value": value, "unit": unit, **context})
        ctx = ", ".join(f"{k}={v}" for k, v in context.items() if not isinstance(v, (list, dict)))
        print(f"  {name:<48s} {value:>12.4g} {unit:<18s} {ctx}")

    def ratio(self, name: str, value: float, *, target: float | None = None, definition: str = "") -> None:
        met = None if target is None else bool(value >= target)
        self.ratios.append({"name": name, "value": value, "target": target, "met": met, "definition": definition})
        flag = "" if target is None else (f"  target >= {target:g}: " + ("MET" if met else "MISSED"))
        print(f"  ratio {name:<42s} {value:>12.4g}{flag}")

    def finish(self) -> dict:
        rec = {
            "benchmark": self.name,
            "description": self.description,
            "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
            "quick": bool(getattr(self.args, "quick", False)),
            "repeat": getattr(self.args, "repeat", None),
            "wall_s": time.perf_counter() - self.t0,
            "machine": self.machine,
            "definitions": self.definitions,
            "results": self.results,
            "ratios": self.ratios,
        }
        rec["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
        if getattr(self.args, "json", None):
            self.args.json.parent.mkdir(parents=True, exist_ok=True)
            self.args.json.write_text(json.dumps(rec, indent=2))
            print(f"  wrote {self.args.json}")
        return rec
