"""The command line as a user meets it: bad input, unwritable paths, Ctrl-C, divergence (issue 17).

Every case runs the CLI in a fresh Python process. Importing JAX costs seconds per process, so
the bad inputs are batched: one process runs ``batchramp_theory.cli.main`` once per argument list
and reports, for each, the exit status and what was written to stderr (an exception escaping
``main`` is reported as a traceback). A few representative cases also run as
``python -m batchramp_theory`` on their own, to check the real exit status and stderr.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "100"}

# Runs main() per argv in one process; prints one JSON record per argv.
DRIVER = r"""
import contextlib, io, json, sys, traceback
from batchramp_theory.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
        except BaseException:
            rc = "escaped"
            traceback.print_exc(file=err)
    out.append({"argv": argv, "rc": rc, "err": err.getvalue(), "out": std.getvalue()})
print(json.dumps(out))
"""

SEESAW = ["seesaw", "--tokens", "3.3e9", "--batch", "256"]

# (argv, words the one-line message must contain: the flag and the allowed range or the cause)
BAD_INPUTS = [
    (["seesaw", "--tokens=-1e9", "--batch", "256"], ["argument --tokens", "must be > 0", "-1e9"]),
    (["seesaw", "--tokens", "-1e9", "--batch", "256"], ["argument --tokens", "must be > 0"]),
    (SEESAW + ["--seq-len", "0"], ["argument --seq-len", "must be >= 1"]),
    (SEESAW + ["--final-lr", "2"], ["argument --final-lr", "must be in [0, 1]"]),
    (SEESAW + ["--lr", "-3e-4"], ["argument --lr", "must be > 0", "-3e-4"]),
    (SEESAW + ["--warmup", "1"], ["argument --warmup", "must be in [0, 1)"]),
    (SEESAW + ["--cut-factor", "1"], ["argument --cut-factor", "must be > 1"]),
    (SEESAW + ["--batch", "2.5"], ["argument --batch", "whole number >= 1"]),
    (SEESAW + ["--max-batch", "abc"], ["argument --max-batch", "whole number"]),
    (["seesaw", "--tokens", "1e3", "--batch", "256"], ["argument --tokens", "1,000 tokens", "--batch 256 x --seq-len 1024"]),
    # Found by the library, restated with the flag (final_fraction -> --final-lr).
    (SEESAW + ["--base", "exponential", "--final-lr", "0"], ["--final-lr must be > 0"]),
    (SEESAW + ["--nope"], ["batchramp seesaw: error: unrecognized arguments: --nope"]),
    (["critical-batch", "--dim", "0"], ["argument --dim", "must be >= 1"]),
    (["critical-batch", "--capacity", "1"], ["argument --capacity", "must be > 1"]),
    (["critical-batch", "--min-batch", "8", "--max-batch", "4"], ["--min-batch (8) must be <= --max-batch (4)"]),
    (["critical-batch", "--policy", "fixed"], ["--policy fixed needs --lr"]),
    (["sweep", "--capacity", "1"], ["argument --capacity", "must be > 1"]),
    (["sweep", "--eps", "1"], ["argument --eps", "must be in (0, 1)"]),
    (["sweep", "--exact-dim", "-1"], ["argument --exact-dim", "must be >= 0"]),
    (["sweep", "--budget", "0"], ["argument --budget", "must be > 0"]),
    (["sweep", "--lr", "-1"], ["argument --lr", "must be > 0"]),
    (["sweep", "--batch1", "5", "--batch2", "3"], ["--batch1=5", "--batch2=3", "need --b-min <= --batch1 < --batch2"]),
    (["sweep", "--capacity", "2", "2"], ["--capacity has repeated values"]),
    (["check", "--select", "nope"], ["--select nope"]),
    (["reproduce", "nope"], ["unknown figure(s) nope"]),
    (["--x32", "nope"], ["argument COMMAND: invalid choice: 'nope'"]),
]


def _python(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300, **kw)


def _batch(argvs: list[list[str]]) -> list[dict]:
    proc = _python(["-c", DRIVER, json.dumps(argvs)])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _one_line_error(rec: dict, words: list[str]) -> None:
    lines = rec["err"].strip().splitlines()
    assert rec["rc"] == 2, rec
    assert len(lines) == 1 and "Traceback" not in rec["err"], rec
    assert lines[0].startswith(f"batchramp{' ' + rec['argv'][0] if not rec['argv'][0].startswith('-') else ''}"), rec
    for w in words:
        assert w in lines[0], (w, rec)


def test_bad_inputs_name_the_flag_and_range():
    unwritable = ["--out", "/proc/batchramp-nope"]  # cannot be created (ENOENT under /proc, even as root)
    argvs = [a for a, _ in BAD_INPUTS] + [
        SEESAW + ["--json", "/proc/batchramp-nope/x.json"],
        ["sweep", "--capacity", "2", "--source", "0.5", "--budget", "1e4", *unwritable],
        ["reproduce", "step_reduction", *unwritable],
        ["critical-batch", *unwritable],
        ["check", "--select", "core", "--json", "/proc/batchramp-nope/x.json"],
        # Negative control: good input (and --x32 after the command) is not an error.
        ["seesaw", "--tokens", "1e9", "--batch", "64", "--lr", "3e-3", "--x32"],
    ]
    recs = _batch(argvs)
    for rec, (_, words) in zip(recs, BAD_INPUTS):
        _one_line_error(rec, words)
    for rec, flag in zip(recs[len(BAD_INPUTS):], ["--json", "--out", "--out", "--out", "--json"]):
        _one_line_error(rec, [f"{flag} /proc/batchramp-nope", "cannot"])
    good = recs[-1]
    assert good["rc"] == 0 and good["err"] == "" and "reduction" in good["out"], good
    # The error path really is distinguishable: the good run printed a table, the bad ones nothing.
    assert all(r["out"] == "" for r in recs[: len(BAD_INPUTS)])


def test_real_processes_exit_2_with_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cases = [
        (SEESAW + ["--lr", "-3e-4"], "argument --lr: must be > 0"),
        (SEESAW + ["--json", str(blocker / "x.json")], "--json"),
        (["sweep", "--capacity", "2", "--source", "0.5", "--out", str(blocker)], "exists and is not a folder"),
    ]
    for argv, words in cases:
        proc = _python(["-m", "batchramp_theory", *argv])
        assert proc.returncode == 2, (argv, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert words in proc.stderr and proc.stdout == ""


def test_sigint_during_sweep_is_one_line_and_points_are_saved(tmp_path):
    out = tmp_path / "sweep"
    # Four points of a few seconds each (the exact recursion at dim 400 over 2e5 samples).
    argv = ["sweep", "--capacity", "2", "--source", "0.3", "0.5", "0.8", "1.2", "--budget", "2e5", "--exact-dim", "400",
            "--lr", "0.3", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "batchramp_theory", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and not list((out / "points").glob("point-*.json")):
        time.sleep(0.1)
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    saved = len(list((out / "points").glob("point-*.json")))
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    m = re.fullmatch(r"batchramp sweep: interrupted: (\d+)/4 points saved in (.+); rerun the same command to resume", lines[0])
    assert m and int(m.group(1)) == saved and 1 <= saved < 4, (lines, saved)
    assert stdout == ""  # no table for a partial sweep


def test_divergence_in_sweep_is_reported_with_its_step(tmp_path):
    base = ["sweep", "--capacity", "2", "--source", "0.5", "--budget", "1e4", "--exact-dim", "50", "--no-progress"]
    bad, good = _batch([base + ["--lr", "100", "--out", str(tmp_path / "bad")],
                        base + ["--lr", "0.3", "--out", str(tmp_path / "good")]])
    # lr = 100 is ~160x the SGD stability limit at batch 1 (0.61 for d = 50, capacity 2).
    assert bad["rc"] == 0, bad
    assert "diverged" in bad["out"] and "at step" in bad["out"], bad["out"]  # the table cell wraps between words
    assert "UNSTABLE" in bad["out"] and "DivergenceWarning" not in bad["err"]
    assert "past the SGD stability limit" in bad["err"] and re.search(r"diverged at \d+ of 1 points \(first at step \d+\)", bad["err"])
    row = json.loads((tmp_path / "bad" / "sweep.json").read_text())[0]
    assert row["stable"] is False and row["lr_stability_limit"] < 1
    assert row["exact_diverged_optimal"] >= 1 and row["exact_gain_optimal"] is None  # a step, never a number
    # Negative control: a stable lr shows numbers, no divergence and no flag.
    assert good["rc"] == 0 and "diverged" not in good["out"] and "UNSTABLE" not in good["out"] and good["err"] == "", good
    row = json.loads((tmp_path / "good" / "sweep.json").read_text())[0]
    assert row["stable"] is True and row["exact_diverged_optimal"] == -1 and row["exact_diverged_two_stage"] == -1
    assert isinstance(row["exact_gain_optimal"], float) and row["exact_gain_optimal"] > 0


@pytest.mark.parametrize("text,value", [("-3e-4", -3e-4), ("-1E+9", -1e9), ("-.5", -0.5), ("-2", -2.0)])
def test_negative_values_reach_the_validator(text, value):
    from batchramp_theory.cli.args import Parser, number

    p = Parser(prog="t")
    p.add_argument("--x", type=number())
    p.add_argument("--y", type=number(), nargs="+")
    assert p.parse_args(["--x", text]).x == value
    assert p.parse_args(["--y", "1", text]).y == [1.0, value]


def test_check_shows_progress_and_a_short_summary(monkeypatch, capsys):
    from batchramp_theory import checks
    from batchramp_theory.cli import main
    from batchramp_theory.verify import bands

    monkeypatch.setattr(checks, "_REGISTRY", dict(checks.registered()))
    checks.register("zz_cli_summary")(lambda quick: [
        bands.within("zz_cli_summary.agrees", 0.5, (0.0, 1.0), reason="inside"),
        bands.within("zz_cli_summary.disagrees", 2.0, 1.0, reason="outside"),
    ])
    assert main(["check", "--select", "zz_cli_summary"]) == 1
    got = capsys.readouterr()
    assert re.search(r"\[1/1\] zz_cli_summary: 1 of 2 DISAGREE \(\d+\.\d s\)", got.err)
    assert "zz_cli_summary.disagrees" in got.out and "zz_cli_summary.agrees" not in got.out  # summary, not the table
    assert "1/2 checks agree with theory (0 negative controls" in got.out and "zz_cli_summary 1/2" in got.out
    assert main(["check", "--select", "zz_cli_summary", "--table"]) == 1
    assert "zz_cli_summary.agrees" in capsys.readouterr().out  # the full table behind --table
