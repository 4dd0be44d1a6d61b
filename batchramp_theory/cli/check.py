"""``batchramp check``: run every registered theory check and report agreement."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("check", help="run the registered theory checks (exit 1 if any disagrees with theory)")
    p.add_argument("--quick", action="store_true", help="small sizes (under 3 minutes on 2 cores)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the results as a JSON list")
    p.add_argument("--select", nargs="+", metavar="PREFIX", help="only check groups starting with PREFIX")
    p.add_argument("--list", action="store_true", help="list the registered check groups and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..checks import registered, run_checks

    console = Console(width=max(Console().width, 160))
    if args.list:
        for name in registered():
            console.print(name)
        return 0
    results = run_checks(quick=args.quick, select=args.select, progress=True)
    table = Table(title=f"batchramp check ({'quick' if args.quick else 'full'})")
    for col in ("check", "statistic", "bound", "passed", "expected", "agrees", "reason"):
        table.add_column(col, overflow="fold")
    for r in results:
        bound = f"[{r.bound[0]:.4g}, {r.bound[1]:.4g}]" if isinstance(r.bound, tuple) else f"{r.bound:.4g}"
        table.add_row(
            r.name, f"{r.statistic:.4g}", bound, str(r.passed), r.expected,
            "[green]yes[/]" if r.agrees else "[red]NO[/]", r.reason,
        )
    console.print(table)
    bad = [r for r in results if not r.agrees]
    console.print(f"{len(results) - len(bad)}/{len(results)} checks agree with theory")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.to_dict() for r in results], indent=2))
    return 1 if bad else 0
