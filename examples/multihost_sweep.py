"""A resumable learning-rate x batch sweep, sharded over every device of every process.

Runs as one process on one machine (``--num-processes 1``, the default) or as N processes on N
hosts (one per host, same command, ``--process-id`` 0..N-1, the same ``--coordinator`` address):

    # one machine (this is what the docs and tests run)
    python examples/multihost_sweep.py --out sweep_out

    # two hosts, e.g. two GPU nodes
    host0$ python examples/multihost_sweep.py --num-processes 2 --process-id 0 --coordinator host0:1234 --out /shared/sweep
    host1$ python examples/multihost_sweep.py --num-processes 2 --process-id 1 --coordinator host0:1234 --out /shared/sweep

What happens:
1. ``jax.distributed.initialize`` joins the processes; ``jax.devices()`` then lists the devices of
   all of them, and ``bt.device_mesh()`` is a 1-d mesh over those.
2. Every process builds the same grid of schedules (deterministic, no communication).
3. ``bt.run_grid_batched`` skips the points already in ``--out`` and evaluates the rest in batches;
   each batch is one ``bt.sharded_expected_risk`` call, its schedule axis sharded over the global
   mesh (each process computes its own shards; results are all-gathered).
4. Process 0 writes one JSON file per point atomically: kill the sweep at any time and rerun the
   same command, it resumes where it stopped.

On CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=4`` gives one process 4 devices, and
more than one process needs ``--cpu-collectives gloo`` (the all-gather crosses processes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-processes", type=int, default=1)
    ap.add_argument("--process-id", type=int, default=0)
    ap.add_argument("--coordinator", default="localhost:12321", help="host:port of process 0")
    ap.add_argument("--out", type=Path, default=Path("sweep_out"))
    ap.add_argument("--dim", default="inf", help="number of modes, or 'inf' (1000-node quadrature)")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=16, help="grid points per sharded call")
    ap.add_argument("--cpu-collectives", choices=["gloo", "mpi"], help="CPU collectives for >1 process")
    args = ap.parse_args(argv)

    import jax

    if args.cpu_collectives:
        jax.config.update("jax_cpu_collectives_implementation", args.cpu_collectives)
    jax.distributed.initialize(
        coordinator_address=args.coordinator, num_processes=args.num_processes, process_id=args.process_id
    )
    jax.config.update("jax_enable_x64", True)
    import batchramp_theory as bt

    mesh = bt.device_mesh()
    if jax.process_index() == 0:
        print(f"{jax.process_count()} process(es), {len(jax.devices())} device(s) in the mesh: {jax.devices()}")

    dim = None if args.dim == "inf" else int(args.dim)
    problem = bt.power_law_problem(dim, capacity=2.0, source=0.5, noise=0.5, quadrature=1000 if dim is None else None)
    lrs = np.round(np.geomspace(0.05, 0.8, 8), 4)
    batches = [1, 2, 4, 8, 16, 32]
    points = [{"lr": float(lr), "batch": b, "steps": args.steps} for lr in lrs for b in batches]
    rec = np.unique(np.geomspace(1, args.steps, 20).astype(int))

    def evaluate_many(pts):
        scheds = [bt.constant(p["lr"], p["batch"], p["steps"]) for p in pts]
        risk = bt.sharded_expected_risk(problem, scheds, record_steps=rec, on_divergence="inf", mesh=mesh)
        return [
            {"final_risk": float(r[-1]), "record_steps": rec.tolist(), "risk": r.tolist(), "diverged": bool(np.isinf(r[-1]))}
            for r in risk
        ]

    t0 = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bt.DivergenceWarning)  # unstable (lr, B) points read inf
        records = bt.run_grid_batched(points, evaluate_many, args.out, batch_size=args.batch_size,
                                      progress=jax.process_index() == 0, description="sweep")
    if jax.process_index() == 0:
        best = min((r for r in records if not r["result"]["diverged"]), key=lambda r: r["result"]["final_risk"])
        print(f"{len(records)}/{len(points)} points in {args.out} ({time.perf_counter() - t0:.1f} s); "
              f"best: lr={best['point']['lr']} batch={best['point']['batch']} risk={best['result']['final_risk']:.4g}")
    jax.distributed.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
