"""``batchramp check``: run every registered theory check and report agreement.

One progress line per check group on stderr as it finishes (``[ 3/41] core.mc_vs_exact: 4/4
agree (2.1 s)``), then a short summary on stdout: checks that agree per theory area, every check
that disagrees with its statistic, bound and reason, and the total. ``--table`` prints the full
table of every check; ``--json PATH`` writes every record (docs/cli.md).

``--problem FILE`` runs only the equivalence checks built from that problem
(:func:`batchramp_theory.checks.problem.problem_checks`; docs/cli.md, "A problem from a file"),
with the same summary.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .args import number, writable_file
from .problem_args import add_problem_argument, load_problem


def register(sub) -> None:
    p = sub.add_parser("check", help="run the registered theory checks (exit 1 if any disagrees with theory)")
    p.add_argument("--quick", action="store_true", help="small sizes (a few minutes on 2 cores)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write every result as a JSON list")
    p.add_argument("--select", nargs="+", metavar="PREFIX", help="only check groups starting with PREFIX")
    p.add_argument("--table", action="store_true", help="print the full table of every check (default: a summary)")
    p.add_argument("--list", action="store_true", help="list the registered check groups and exit")
    add_problem_argument(p)
    p.add_argument("--noise", type=number(0), default=None, metavar="SIGMA",
                   help="with --problem: label-noise std for a file that has none")
    p.set_defaults(func=run)


def _bound_text(bound) -> str:
    if isinstance(bound, tuple):
        return f"[{bound[0]:.4g}, {bound[1]:.4g}]"
    return "-" if bound is None else f"{bound:.4g}"


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..checks import registered

    console = Console(width=max(Console().width, 100))
    if args.problem is not None:
        from ..checks.problem import mc_skip_reason, problem_checks

        for flag, given in (("--list", args.list), ("--select", args.select)):
            if given:
                raise ValueError(f"--problem: {flag} cannot be combined with --problem (it runs only the problem's checks)")
        problem = load_problem(args.problem, getattr(args, "noise", None))
        if args.json:
            writable_file("--json", args.json)
        skip = mc_skip_reason(problem)
        if skip:
            print(f"batchramp check: {skip}", file=sys.stderr)
        groups = {f"problem ({args.problem})": lambda quick: problem_checks(problem, quick)}
        names = list(groups)
    else:
        groups = registered()
        if args.list:
            for name in groups:
                console.print(name)
            return 0
        names = [g for g in groups if not args.select or any(g.startswith(s) for s in args.select)]
        if not names:
            raise ValueError(f"no check group matches --select {' '.join(args.select)}; see --list for the groups")
        if args.json:
            writable_file("--json", args.json)
    results, t_all = [], time.perf_counter()
    for i, g in enumerate(names, 1):
        t0 = time.perf_counter()
        got = groups[g](args.quick)
        results += got
        n_bad = sum(not r.agrees for r in got)
        verdict = f"{len(got)}/{len(got)} agree" if not n_bad else f"{n_bad} of {len(got)} DISAGREE"
        print(f"[{i:>{len(str(len(names)))}}/{len(names)}] {g}: {verdict} ({time.perf_counter() - t0:.1f} s)",
              file=sys.stderr, flush=True)
    bad = [r for r in results if not r.agrees]
    mode = "quick" if args.quick else "full"
    if args.table:
        table = Table(title=f"batchramp check ({mode})")
        for col in ("check", "statistic", "bound", "passed", "expected", "agrees", "reason"):
            table.add_column(col, overflow="fold")
        for r in results:
            table.add_row(r.name, f"{r.statistic:.4g}", _bound_text(r.bound), str(r.passed), r.expected,
                          "[green]yes[/]" if r.agrees else "[red]NO[/]", r.reason)
        console.print(table)
    areas: dict[str, list] = {}
    for r in results:
        areas.setdefault(r.name.split(".")[0], []).append(r)
    console.print("agree with theory, per area: " + ", ".join(
        f"{a} {sum(r.agrees for r in rs)}/{len(rs)}" for a, rs in areas.items()))
    if bad:
        summary = Table(title="checks that disagree with theory")
        for col in ("check", "statistic", "bound", "expected", "reason"):
            summary.add_column(col, overflow="fold")
        for r in bad:
            summary.add_row(r.name, f"{r.statistic:.4g}", _bound_text(r.bound), r.expected, r.reason)
        console.print(summary)
    n_neg = sum(r.expected == "fail" for r in results)
    console.print(
        f"{len(results) - len(bad)}/{len(results)} checks agree with theory ({n_neg} negative controls; {mode} mode, "
        f"{time.perf_counter() - t_all:.0f} s)" + ("" if args.table or args.json else "; full table: --table or --json PATH")
    )
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in results], indent=2))
        console.print(f"wrote {args.json}")
    return 1 if bad else 0
