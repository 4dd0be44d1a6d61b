"""``batchramp plan``: the command end to end on a tiny problem, its files, its errors, and planner
points through the Seesaw exporters (:mod:`batchramp_theory.export.from_schedule`) with round trips.

One planner run (dim 60, K <= 300, 3 points, 60 iterations; about 15 s on one core) is shared by
every test through the module fixture; the round trips read its schedules back from plan.json.
"""

import contextlib
import csv
import io
import json

import jax
import numpy as np
import pytest
from helpers import RTOL_EXACT

import batchramp_theory as bt
from batchramp_theory import export as ex
from batchramp_theory.cli import main
from batchramp_theory.export import from_schedule

jax.config.update("jax_enable_x64", True)

TINY = ["plan", "--dim", "60", "--max-steps", "300", "--points", "3", "--iterations", "60", "--max-batch", "64"]
TARGET = 0.02
PROBLEM = bt.power_law_problem(60, 2.0, 0.5, 0.5)  # the CLI's defaults for --capacity/--source/--noise


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    rc, stdout, stderr = run_cli([*TINY, "--target", str(TARGET), "--budget", "20000", "--out", str(out),
                                  "--export", "megatron", "--seq-len", "8"])
    assert rc == 0, stderr
    return out, json.loads((out / "plan.json").read_text()), stdout, stderr


def schedules(d):
    return [bt.Schedule(np.array(p["lr"]), np.array(p["batch"])) for p in d["points"]]


def test_plan_json_and_front_csv_are_consistent(planned):
    out, d, stdout, stderr = planned
    pts = d["points"]
    assert d["problem"]["dim"] == 60 and d["problem"]["noise_floor"] == 0.125 and d["target"] == TARGET
    assert 1 <= len(pts) <= 3
    for p in pts:
        assert p["samples"] == sum(p["batch"]) and len(p["batch"]) == len(p["lr"]) == p["steps"]
        assert p["risk"] <= TARGET and max(p["batch"]) <= 64 and p["samples"] <= d["budget"]
    steps = [p["steps"] for p in pts]
    assert steps == sorted(steps)
    # On the front, more steps buy fewer samples (strictly); every point off it is dominated.
    front = [p for p in pts if p["on_front"]]
    assert front and all(a["samples"] > b["samples"] for a, b in zip(front, front[1:]))
    for p in pts:
        if not p["on_front"]:
            assert any(q["steps"] <= p["steps"] and q["samples"] <= p["samples"] for q in front)
    rows = list(csv.DictReader(io.StringIO((out / "front.csv").read_text())))
    assert [int(r["steps"]) for r in rows] == steps
    assert [int(r["samples"]) for r in rows] == [p["samples"] for p in pts]
    assert [r["on_front"] == "True" for r in rows] == [p["on_front"] for p in pts]
    np.testing.assert_allclose([float(r["saving_vs_constant"]) for r in rows],
                               [1 - p["samples"] / p["constant_samples"] for p in pts], rtol=RTOL_EXACT)
    # A planned point needs fewer samples than the best constant schedule at its horizon.
    assert all(p["samples"] < p["constant_samples"] for p in pts)
    # stdout: the table and the summary; stderr: one progress line per point (not a terminal).
    assert "fewest steps on the front (#0)" in stdout and f"{pts[0]['steps']:,}" in stdout
    assert sum(line.startswith("[") for line in stderr.splitlines()) == len(pts)


def test_cli_megatron_export_runs_the_planned_schedule(planned):
    out, d, stdout, _ = planned
    e = d["export"]
    text = (out / "export_megatron.txt").read_text().strip()
    assert e["format"] == "megatron" and e["point"] == 0 and e["text"] == text and e["reaches_target"]
    sched = ex.megatron.parse_step_schedule(text.split('"')[1], seq_length=8)
    got = ex.megatron.step_schedule_batches(sched, d["points"][0]["samples"])
    # micro_batch x data_parallel = 1: nothing to round, so Megatron runs the planned batches exactly, and
    # the exact-recursion cost is nil (ratio 1 to float64 rounding: the same schedule).
    np.testing.assert_array_equal(got, d["points"][0]["batch"])
    assert abs(e["cost"]["ratio"] - 1.0) < RTOL_EXACT and e["cost"]["steps_runnable"] == d["points"][0]["steps"]
    assert "quantisation cost" in stdout


def parse_back(fmt, text, rr):
    """Per-step ``(batch, lr or None)`` of the rendered text, by the format's own parser and run rule."""
    cons = rr.constraints
    if fmt == "megatron":
        sched = ex.megatron.parse_step_schedule(text.split('"')[1], seq_length=cons.seq_len)
        return ex.megatron.step_schedule_batches(sched, rr.budget / cons.seq_len), None
    if fmt == "levanter":
        return ex.levanter.levanter_batches(ex.levanter.parse_levanter(text), rr.schedule.steps), None
    if fmt == "olmo-core":
        b, t = ex.olmo_core.parse_olmo(text)
        return ex.olmo_core.olmo_batches(b, t, cons.seq_len, rr.budget), None
    if fmt == "optax":
        ns = {}
        exec(text, ns)  # the exported Python source itself
        return None, np.asarray(jax.vmap(ns["lr_schedule"])(np.arange(rr.schedule.steps)))
    return ex.optax_schedule.table_steps(ex.optax_schedule.parse_table(text), rr.schedule.steps)


@pytest.mark.parametrize("fmt", ["json", "csv", "optax", "megatron", "levanter", "olmo-core"])
@pytest.mark.parametrize("layout", [(1, 1), (2, 2)])
def test_export_round_trips(planned, fmt, layout):
    _, d, _, _ = planned
    planned_sched = schedules(d)[0]
    _, rr = from_schedule.quantize_schedule(planned_sched, fmt, micro_batch=layout[0], data_parallel=layout[1],
                                            seq_len=16)
    batch, lr = parse_back(fmt, ex.render(rr), rr)
    if batch is not None:
        np.testing.assert_array_equal(batch, rr.schedule.batch)
    if lr is not None:
        np.testing.assert_allclose(lr, rr.schedule.lr, rtol=RTOL_EXACT)
    assert np.all(rr.schedule.batch % (layout[0] * layout[1]) == 0)
    if layout == (1, 1) and fmt != "olmo-core":  # nothing to round: the run is the planned schedule
        np.testing.assert_array_equal(rr.schedule.batch, planned_sched.batch)
        np.testing.assert_array_equal(rr.schedule.lr, planned_sched.lr)


def test_round_trip_negative_control(planned):
    # One threshold moved in the rendered text must change the parsed run (the round trip can fail).
    _, d, _, _ = planned
    _, rr = from_schedule.quantize_schedule(schedules(d)[0], "megatron", seq_len=1)
    entries = list(rr.config["entries"])
    entries[1] = (entries[1][0] + 3 * entries[1][1], entries[1][1])
    got = ex.megatron.step_schedule_batches(entries, rr.budget)
    assert got.shape != rr.schedule.batch.shape or np.any(got != rr.schedule.batch)


def test_quantisation_cost_is_the_exact_risk_of_the_runnable_run(planned):
    _, d, _, _ = planned
    ramp, rr = from_schedule.quantize_schedule(schedules(d)[0], "levanter", micro_batch=2, data_parallel=2, seq_len=1)
    cost, ok = from_schedule.schedule_quantization_cost(ramp, rr, PROBLEM, bt.SGD(), TARGET)
    direct = float(np.asarray(bt.expected_risk(PROBLEM, rr.schedule, bt.SGD()))[-1])
    planned_risk = float(np.asarray(bt.expected_risk(PROBLEM, schedules(d)[0], bt.SGD()))[-1])
    np.testing.assert_allclose([cost.risk_quantized, cost.risk_ideal], [direct, planned_risk], rtol=RTOL_EXACT)
    # Rounding batches of 2..36 to multiples of 4 changes the run: a cost away from 1, and the flag agrees.
    assert abs(cost.ratio_vs_ideal - 1.0) > 1e-3 and ok == (direct <= TARGET)


@pytest.mark.parametrize("fmt", ["megatron-legacy", "nemo", "maxtext"])
def test_linear_formats_are_refused(planned, fmt):
    _, d, _, _ = planned
    with pytest.raises(ValueError, match="cannot express a planner schedule"):
        from_schedule.quantize_schedule(schedules(d)[0], fmt)


def test_megatron_refuses_a_falling_batch():
    sched = bt.Schedule(np.array([0.1, 0.1, 0.1, 0.1]), np.array([4, 8, 8, 4]))
    with pytest.raises(ValueError, match="falls from 8 to 4 at step 3"):
        from_schedule.quantize_schedule(sched, "megatron")
    _, rr = from_schedule.quantize_schedule(sched, "levanter")  # Levanter's segments can fall
    np.testing.assert_array_equal(rr.schedule.batch, sched.batch)


@pytest.mark.parametrize("argv, what", [
    (["--target-loss", "0.1", "--budget", "20000"], "at or below the noise floor sigma^2/2 = 0.125"),
    (["--target", "0.02", "--budget", "20000", "--max-batch", "0"], "argument --max-batch: must be >= 1"),
    (["--target", "0.02", "--budget", "300"], "is unreachable: with --budget 300 samples"),
    (["--target", "0.02", "--budget", "20000", "--export", "maxtext"], "maxtext: cannot express a planner schedule"),
    (["--target", "0.02", "--budget", "20000", "--point", "1"], "give --export FORMAT too"),
])
def test_bad_input_exits_2_with_one_line(argv, what):
    rc, stdout, stderr = run_cli([*TINY, *argv])
    assert rc == 2 and what in stderr
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("batchramp plan: error:")
