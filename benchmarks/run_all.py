"""Run every benchmark (each in its own process) and summarise them as Markdown.

    python benchmarks/run_all.py [--quick] [--out DIR] [--only NAME ...]

Writes ``DIR/<name>.json`` per benchmark (the self-describing records of ``--json``) and
``DIR/summary.md``: the machine, then every ratio with its target and whether it was met, then
every raw result. ``benchmarks/RESULTS.md`` is written from such summaries by hand, with the
discussion.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["sampler", "simulate", "recursions", "precision", "prng", "memory", "quadrature", "planner", "reproduce"]


def summarise(records: list[dict]) -> str:
    if not records:
        return "(no results)\n"
    m = records[0]["machine"]
    lines = [
        "## Machine", "",
        f"- CPU: {m['cpu_model']} ({m['cpu_cores_visible']} cores visible), memory {m['memory_bytes'] / 2**30:.0f} GiB" if m.get("memory_bytes") else f"- CPU: {m['cpu_model']}",
        f"- JAX backend: {m['backend']} ({m['device_kind']} x{m['device_count']}); jax {m['jax']}, jaxlib {m['jaxlib']}, numpy {m['numpy']}, Python {m['python']}",
        f"- load average at start of the first benchmark: {m['load_average_1_5_15']}", "",
        "## Ratios", "", "| benchmark | ratio | value | target | met |", "|---|---|---|---|---|",
    ]
    for r in records:
        for q in r["ratios"]:
            met = "" if q["met"] is None else ("yes" if q["met"] else "**no**")
            tgt = "" if q["target"] is None else f">= {q['target']:g}"
            lines.append(f"| {r['benchmark']} | {q['name']} | {q['value']:.3g} | {tgt} | {met} |")
    lines += ["", "## Results", "", "| benchmark | result | value | unit |", "|---|---|---|---|"]
    for r in records:
        for q in r["results"]:
            lines.append(f"| {r['benchmark']} | {q['name']} | {q['value']:.4g} | {q['unit']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("benchmark_results"))
    ap.add_argument("--only", nargs="+", choices=BENCHMARKS)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.only or BENCHMARKS:
        out = args.out / f"{name}.json"
        cmd = [sys.executable, str(HERE / f"bench_{name}.py"), "--json", str(out)] + (["--quick"] if args.quick else [])
        print(f"$ {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"  ({name}: exit {rc}, {time.perf_counter() - t0:.0f} s)", flush=True)
        if rc != 0 or not out.exists():
            failed.append(name)
    # The summary covers every record in DIR, so `--only NAME` refreshes one benchmark and keeps
    # the others' last results (each record carries its own machine details and date).
    records = [json.loads((args.out / f"{n}.json").read_text()) for n in BENCHMARKS if (args.out / f"{n}.json").exists()]
    (args.out / "summary.md").write_text(summarise(records))
    print(f"wrote {args.out / 'summary.md'}" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
