"""(b) Simulator throughput: ``bt.simulate`` in coordinate-steps per second.

A coordinate-step is one coordinate of one run advanced by one step (``runs * steps * d`` per
call). ``bt.simulate`` (exact sampler, SGD, every step recorded, the public entry point with its
chunking and host transfers) is compared in the same run with

- the **bare-draw floor**: one jitted ``vmap`` over runs of a ``scan`` that draws ``d`` standard
  normals per step (key ``fold_in(run_key, k)``) and adds them to the iterate; timed with the
  scan rolled and unrolled by 4, and the faster of the two is the floor (unrolling makes the
  bare loop ~8% faster at d = 64); target >= 0.5;
- ``bt.simulate(..., sampler="explicit")``: the same simulation through the explicit ``B x d``
  sampler (timed on fewer runs, rates compared per coordinate-step).
"""

from __future__ import annotations

import _harness as H

DESCRIPTION = "bt.simulate coordinate-steps/s vs the bare d-normal floor and the explicit sampler"


def main():
    args = H.parse(DESCRIPTION)
    import jax
    import jax.numpy as jnp

    import batchramp_theory as bt

    configs = [(64, 256, 1000), (2000, 64, 250)] if args.quick else [(64, 1024, 4000), (2000, 256, 1000), (20000, 32, 500)]
    batch = 64
    rep = H.Report("simulate", DESCRIPTION, args, definitions={
        "coordinate_steps_per_s": "runs * steps * dim / (min wall time of one call)",
        "floor": "jitted vmap(runs) of scan(steps) drawing d normals per step and adding them to the iterate",
        "floor_unroll4": "the same floor with scan(..., unroll=4)",
        "simulate": "bt.simulate(problem, constant(0.2, 64, steps), SGD(), num_runs, seed=0): exact sampler, every step recorded",
        "explicit": "bt.simulate(..., sampler='explicit') on runs/8 runs and steps/4 steps",
    })
    for dim, runs, steps in configs:
        p = bt.power_law_problem(dim, 2.0, 0.5, noise=0.5)
        sched = bt.constant(0.2, batch, steps)
        keys = jax.random.split(jax.random.key(0), runs)
        dt = jnp.zeros(()).dtype

        def one(key, unroll):
            def body(acc, k):
                return acc + jax.random.normal(jax.random.fold_in(key, k), (dim,), dt), None

            return jax.lax.scan(body, jnp.zeros(dim, dt), jnp.arange(steps), unroll=unroll)[0]

        floor = jax.jit(jax.vmap(lambda k: one(k, 1)))
        floor4 = jax.jit(jax.vmap(lambda k: one(k, 4)))
        r_exp, k_exp = max(1, runs // 8), max(1, steps // 4)
        sched_exp = bt.constant(0.2, batch, k_exp)
        fns = {
            "floor": lambda: floor(keys),
            "floor_unroll4": lambda: floor4(keys),
            "simulate": lambda: bt.simulate(p, sched, num_runs=runs, seed=0),
            "explicit": lambda: bt.simulate(p, sched_exp, num_runs=r_exp, seed=0, sampler="explicit"),
        }
        work = {"floor": runs * steps * dim, "floor_unroll4": runs * steps * dim, "simulate": runs * steps * dim, "explicit": r_exp * k_exp * dim}
        t = H.time_interleaved(fns, args.repeat)
        rate = {k: work[k] / t[k]["min_s"] for k in fns}
        for k in fns:
            rep.result(f"{k} d={dim}", rate[k], "coord-steps/s", runs=runs if k != "explicit" else r_exp,
                       steps=steps if k != "explicit" else k_exp, dim=dim, batch=batch, min_s=t[k]["min_s"],
                       median_s=t[k]["median_s"])
        best_floor = max(rate["floor"], rate["floor_unroll4"])
        rep.ratio(f"simulate/floor d={dim}", rate["simulate"] / best_floor, target=0.5,
                  definition="bt.simulate rate over the bare-draw floor rate (the faster of rolled and unroll=4)")
        rep.ratio(f"simulate/explicit d={dim} B={batch}", rate["simulate"] / rate["explicit"],
                  definition="bt.simulate rate over bt.simulate(sampler='explicit') rate")
    rep.finish()


if __name__ == "__main__":
    main()
