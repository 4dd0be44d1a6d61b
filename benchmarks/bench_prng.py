"""(e) The random-number implementation: threefry (JAX's default) against rbg and unsafe_rbg.

``bt.simulate`` accepts a typed key as ``seed``; its impl (``jax.random.key(0, impl=...)``) flows
through every draw (``fold_in``, ``split``, the Gram scalars, the ``d`` normals). Timed in the
same run for each impl: the bare draw floor (a vmapped scan drawing ``d`` normals per step) and
``bt.simulate``. Ratios are against threefry. Notes: ``rbg``/``unsafe_rbg`` use XLA's
RngBitGenerator, fast on GPU/TPU; ``unsafe_rbg`` trades stream-splitting guarantees for speed.
Results differ between impls (different streams), not in law. The process-wide default is
``jax.config.update("jax_default_prng_impl", ...)``; ``jax_threefry_partitionable`` is reported
in the machine record.
"""

from __future__ import annotations

import _harness as H

DESCRIPTION = "threefry vs rbg vs unsafe_rbg: bare draw floor and bt.simulate"


def main():
    args = H.parse(DESCRIPTION)
    import jax
    import jax.numpy as jnp

    import batchramp_theory as bt

    dim, runs, steps = (512, 128, 400) if args.quick else (2000, 256, 1000)
    p = bt.power_law_problem(dim, 2.0, 0.5, noise=0.5)
    sched = bt.constant(0.2, 64, steps)
    dt = jnp.zeros(()).dtype
    impls = ["threefry2x32", "rbg", "unsafe_rbg"]
    rep = H.Report("prng", DESCRIPTION, args, definitions={
        "floor": f"vmap(runs={runs}) of scan(steps={steps}) drawing d={dim} normals per step with fold_in(run_key, k)",
        "simulate": f"bt.simulate(power_law_problem({dim}), constant(0.2, 64, {steps}), num_runs={runs}, seed=jax.random.key(0, impl=...))",
    })
    fns = {}
    for impl in impls:
        key = jax.random.key(0, impl=impl)
        keys = jax.random.split(key, runs)

        def one(k):
            def body(acc, i):
                return acc + jax.random.normal(jax.random.fold_in(k, i), (dim,), dt), None

            return jax.lax.scan(body, jnp.zeros(dim, dt), jnp.arange(steps))[0]

        floor = jax.jit(jax.vmap(one))
        fns[f"floor {impl}"] = (lambda f, ks: lambda: f(ks))(floor, keys)
        fns[f"simulate {impl}"] = (lambda k: lambda: bt.simulate(p, sched, num_runs=runs, seed=k))(key)
    t = H.time_interleaved(fns, args.repeat)
    work = runs * steps * dim
    for name in fns:
        rep.result(name, work / t[name]["min_s"], "coord-steps/s", min_s=t[name]["min_s"], median_s=t[name]["median_s"])
    for impl in impls[1:]:
        for what in ("floor", "simulate"):
            rep.ratio(f"{what} {impl}/threefry", t[f"{what} threefry2x32"]["min_s"] / t[f"{what} {impl}"]["min_s"],
                      definition="speed ratio (time threefry / time impl)")
    for impl in impls:
        rep.ratio(f"simulate/floor {impl}", t[f"floor {impl}"]["min_s"] / t[f"simulate {impl}"]["min_s"], target=0.5,
                  definition="bt.simulate speed over the same impl's bare-draw floor")
    rep.finish()


if __name__ == "__main__":
    main()
