"""Sharded sweeps: the schedule stack (recursions) and the runs (Monte Carlo) over a device mesh.

The multi-device test runs in a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=2``
(the flag must be set before JAX starts). Results must equal the unsharded ones bit for bit:
each schedule and each run goes through the same operations on whichever device holds it.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import batchramp_theory as bt

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    import batchramp_theory as bt
    from batchramp_theory.moments import mode_arrays
    from batchramp_theory.recursions import _stack

    out = {"devices": len(jax.devices())}
    p = bt.power_law_problem(48, 2.0, 0.5, noise=0.5)
    # 7 schedules (not a multiple of 2: exercises the padding), different lengths.
    grid = [bt.constant(lr, b, 120) for lr in (0.1, 0.3, 0.5) for b in (1, 4)] + [bt.constant(0.2, 2, 80)]
    out["recursion_equal"] = bool(np.array_equal(bt.expected_risk(p, grid), bt.sharded_expected_risk(p, grid)))
    # A weighted (quadrature) problem: the weights are replicated with the problem.
    q = bt.power_law_problem(None, 2.0, 0.5, noise=0.5, quadrature=300)
    out["quadrature_equal"] = bool(np.array_equal(
        bt.expected_risk(q, grid, record_steps=[0, 7, 120]), bt.sharded_expected_risk(q, grid, record_steps=[0, 7, 120])))
    # 5 runs over 2 devices: padded to 6, the extra run dropped.
    s = [bt.constant(0.3, 4, 60), bt.constant(0.2, 1, 40)]
    out["simulate_equal"] = bool(np.array_equal(
        bt.simulate(p, s, num_runs=5, seed=3), bt.sharded_simulate(p, s, num_runs=5, seed=3)))
    # The computation really is split: the jitted recursion's output lives on both devices.
    mesh = bt.device_mesh()
    place = bt.MeshPlacement(mesh)
    risk = _stack(place.replicate(mode_arrays(p)), place.shard(np.full((4, 10), 0.1), 0),
                  place.shard(np.full((4, 10), 2.0), 0), optimizer=bt.SGD())
    out["output_devices"] = len(risk.sharding.device_set)
    out["shard_rows"] = sorted(int(sh.data.shape[0]) for sh in risk.addressable_shards)
    print("RESULT" + json.dumps(out))
    """
)


def _run(script: str, devices: int, timeout: int = 600) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def test_sharded_equals_unsharded_on_two_cpu_devices():
    out = _run(_SCRIPT, devices=2)
    assert out["devices"] == 2
    assert out["output_devices"] == 2 and out["shard_rows"] == [2, 2]
    assert out["recursion_equal"]
    assert out["quadrature_equal"]
    assert out["simulate_equal"]


def test_sharded_single_device_in_process():
    # The default mesh here has one device: the sharded path must still equal the plain one.
    p = bt.power_law_problem(32, 2.0, 0.5, noise=0.5)
    grid = [bt.constant(0.2, 2, 50), bt.constant(0.4, 8, 30)]
    np.testing.assert_array_equal(bt.expected_risk(p, grid), bt.sharded_expected_risk(p, grid))
    np.testing.assert_array_equal(bt.expected_risk(p, grid[0]), bt.sharded_expected_risk(p, grid[0]))
    with pytest.raises(ValueError, match="no exact recursion"):
        bt.sharded_expected_risk(p, grid, bt.Adam())
    with pytest.raises(bt.DivergenceError):
        bt.sharded_expected_risk(p, bt.constant(50.0, 1, 20))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_multihost_example_two_processes(tmp_path):
    """examples/multihost_sweep.py as 2 real processes (jax.distributed, gloo) equals 1 process."""
    example = ROOT / "examples" / "multihost_sweep.py"
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    port = _free_port()
    common = [sys.executable, str(example), "--steps", "300", "--coordinator", f"localhost:{port}"]
    procs = [
        subprocess.Popen(common + ["--num-processes", "2", "--process-id", str(i), "--out", str(tmp_path / "two"),
                                   "--cpu-collectives", "gloo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in (0, 1)
    ]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert "2 process(es), 2 device(s)" in outs[0]
    one = subprocess.run(common[:-2] + ["--coordinator", f"localhost:{_free_port()}", "--out", str(tmp_path / "one")],
                         env=env, capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]
    from batchramp_theory.grid import load_grid

    a = {json.dumps(r["point"], sort_keys=True): r["result"] for r in load_grid(tmp_path / "one")}
    b = {json.dumps(r["point"], sort_keys=True): r["result"] for r in load_grid(tmp_path / "two")}
    assert len(a) == 48 and a == b
