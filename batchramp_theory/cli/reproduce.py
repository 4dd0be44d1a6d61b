"""``batchramp reproduce``: make every registered figure, then write REPORT.md."""

from __future__ import annotations

import time
from pathlib import Path

from .args import UsageError, writable_dir


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="reproduce the papers' figures and write DIR/REPORT.md")
    p.add_argument("names", nargs="*", metavar="NAME", help="figures to make (default: all)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="quick", action="store_true", default=True, help="small sizes (default)")
    mode.add_argument("--full", dest="quick", action="store_false", help="paper-scale sizes")
    p.add_argument("--out", type=Path, default=Path("figures_out"), metavar="DIR", help="output folder")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    import importlib

    from rich.console import Console
    from rich.progress import Progress

    from ..figures import FIGURES, make_figure

    console = Console()
    if args.list:
        for name, mod in FIGURES.items():
            console.print(f"{name}: {importlib.import_module(f'batchramp_theory.figures.{mod}').TITLE}")
        return 0
    names = args.names or list(FIGURES)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise UsageError(f"unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)} (see --list)")
    writable_dir("--out", args.out)  # before the work, not after it
    rows, t_all = [], time.perf_counter()
    with Progress(console=console) as prog:
        task = prog.add_task("figures", total=len(names))
        for name in names:
            prog.update(task, description=f"figure {name}")
            t0 = time.perf_counter()
            claims = make_figure(name, args.out, quick=args.quick)
            rows.append((name, time.perf_counter() - t0, claims))
            prog.advance(task)
    lines = [
        f"# batchramp reproduce ({'quick' if args.quick else 'full'})",
        "",
        f"Total wall time {time.perf_counter() - t_all:.0f} s.",
        "",
        "| figure | claim | measured | predicted | pass | detail |",
        "|---|---|---|---|---|---|",
    ]
    n_fail = 0
    for name, _secs, claims in rows:
        for c in claims:
            n_fail += not c.passed
            lines.append(f"| [{name}]({name}.png) | {c.name} | {c.measured:.4g} | {c.predicted} | {'PASS' if c.passed else 'FAIL'} | {c.detail} |")
    (args.out / "REPORT.md").write_text("\n".join(lines) + "\n")
    console.print(f"wrote {args.out / 'REPORT.md'}: {sum(len(c) for _, _, c in rows)} claims, {n_fail} failed")
    return 1 if n_fail else 0
