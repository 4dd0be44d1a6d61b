"""(g) Wall time of ``batchramp reproduce --quick`` (every registered figure, quick sizes).

Run as a fresh subprocess (``python -m batchramp_theory reproduce --quick --out TMP``), the way a
user runs it, so the time includes interpreter start-up, imports and every compilation. The
baseline in the same run is the bare start-up (``python -c "import batchramp_theory"``); their
ratio says how much of the wall time is actual work. The figure count is read from the registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as H

DESCRIPTION = "batchramp reproduce --quick wall time (fresh process) vs bare import time"
ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd, env) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - t0, proc


def main():
    args = H.parse(DESCRIPTION)
    from batchramp_theory.figures import FIGURES

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rep = H.Report("reproduce", DESCRIPTION, args, definitions={
        "reproduce_s": "wall time of `python -m batchramp_theory reproduce --quick --out TMP` (one run; min of --repeat if > 1 in full mode)",
        "import_s": "wall time of `python -c 'import batchramp_theory'` (min of 3)",
    })
    imp = min(_timed([sys.executable, "-c", "import batchramp_theory"], env)[0] for _ in range(3))
    runs = 1 if args.quick else 2
    times, rc = [], 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            t, proc = _timed([sys.executable, "-m", "batchramp_theory", "reproduce", "--quick", "--out", tmp], env)
            report = Path(tmp, "REPORT.md").read_text() if Path(tmp, "REPORT.md").exists() else ""
        times.append(t)
        rc = rc or proc.returncode
    n_pass, n_fail = report.count("| PASS |"), report.count("| FAIL |")
    rep.result("reproduce --quick", min(times), "s", figures=len(FIGURES), names=list(FIGURES), exit_code=rc,
               claims_pass=n_pass, claims_fail=n_fail, all_s=times)
    rep.result("import batchramp_theory", imp, "s")
    rep.ratio("reproduce / import", min(times) / imp, definition="wall time over bare start-up time")
    rep.finish()


if __name__ == "__main__":
    main()
