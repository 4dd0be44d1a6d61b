"""(f) Memory against runs x dim.

For each (runs R, dim d) the simulator's jitted chunk (``_chunk``, the one call ``bt.simulate``
makes per chunk of steps, with the chunk length ``bt.simulate`` would choose) is compiled and
XLA's own accounting is read (``compiled.memory_analysis()``: arguments, outputs, temporaries,
minus aliased buffers). Its peak is dominated by the iterate ``(S, R, d)`` (argument and output,
donated back) and the per-step temporaries of width ``R d``; the chunk's Gram scalars add
``~10 S R C`` floats. Reported: bytes, and bytes per run-coordinate ``R d`` (expected: a small
constant times the word size, independent of R and d once ``R d`` dominates ``R C``). Where the
device reports it (GPU/TPU ``memory_stats``), the measured peak of one ``bt.simulate`` call is
recorded too; on CPU the process's peak RSS is recorded for reference (it includes JAX itself).
"""

from __future__ import annotations

import resource

import _harness as H

DESCRIPTION = "simulator memory vs runs x dim (XLA memory analysis, device peak where available)"


def main():
    args = H.parse(DESCRIPTION)
    import importlib

    import jax
    import jax.numpy as jnp
    import numpy as np

    import batchramp_theory as bt

    sim_mod = importlib.import_module("batchramp_theory.simulate")
    from batchramp_theory.simulate import _chunk

    runs_grid = [16, 128, 1024] if args.quick else [16, 128, 1024, 8192]
    dims = [256, 4096] if args.quick else [256, 4096, 65536]
    steps = 200
    dt = jnp.zeros(()).dtype
    word = jnp.finfo(dt).bits // 8
    rep = H.Report("memory", DESCRIPTION, args, definitions={
        "xla_bytes": "argument + output + temp - alias bytes of the compiled simulator chunk (one schedule, SGD, exact sampler)",
        "per_run_coordinate": "xla_bytes / (runs * dim)",
        "chunk_steps": "min(steps, clip(2^20 // runs, 16, 8192)), as bt.simulate chooses",
        "device_peak_bytes": "memory_stats()['peak_bytes_in_use'] after one bt.simulate call (GPU/TPU only)",
        "rss_peak_bytes": "process peak resident set (CPU reference; includes the JAX runtime)",
    })
    dev = jax.devices()[0]
    for d in dims:
        p = bt.power_law_problem(d, 2.0, 0.5, noise=0.5)
        lam = jnp.asarray(p.eigenvalues, dt)
        for r in runs_grid:
            if r * d > 2**27:  # > 1 GiB of iterate in float64: skip on small machines
                continue
            c = int(min(steps, np.clip(sim_mod._CHUNK_BUDGET // r, 16, 8192)))
            state = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (1, r) + x.shape), bt.SGD().transform().init(jnp.zeros(d, dt)))
            shapes = (jax.ShapeDtypeStruct((1, r, d), dt), state, jax.random.split(jax.random.key(0), r), lam,
                      jnp.asarray(0.5, dt), jax.ShapeDtypeStruct((1, c), dt), jax.ShapeDtypeStruct((1, c), dt),
                      jax.ShapeDtypeStruct((1, c), dt), 0)
            comp = _chunk.lower(*shapes, optimizer=bt.SGD(), sampler="exact", max_batch=0, features="gaussian").compile()
            ma = comp.memory_analysis()
            total = ma.argument_size_in_bytes + ma.output_size_in_bytes + ma.temp_size_in_bytes - ma.alias_size_in_bytes
            ctx = dict(runs=r, dim=d, chunk_steps=c, argument=ma.argument_size_in_bytes, output=ma.output_size_in_bytes,
                       temp=ma.temp_size_in_bytes, alias=ma.alias_size_in_bytes)
            peak = None
            stats = dev.memory_stats() if hasattr(dev, "memory_stats") else None
            if stats and "peak_bytes_in_use" in stats:
                if hasattr(dev, "reset_memory_stats"):
                    try:
                        dev.reset_memory_stats()
                    except Exception:  # noqa: BLE001 - not every backend supports it
                        pass
                bt.simulate(p, bt.constant(0.2, 64, steps), num_runs=r, seed=0, record_steps=[steps])
                peak = dev.memory_stats()["peak_bytes_in_use"]
            ctx["device_peak_bytes"] = peak
            ctx["rss_peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            rep.result(f"xla_bytes R={r} d={d}", total, "bytes", **ctx)
            rep.result(f"per_run_coordinate R={r} d={d}", total / (r * d), "bytes", words=total / (r * d) / word)
    rep.finish()


if __name__ == "__main__":
    main()
