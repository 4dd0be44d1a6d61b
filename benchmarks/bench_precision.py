"""(d) float32 against float64: the simulator and the recursion, same sizes, same run.

JAX's precision is switched with ``jax.config.update("jax_enable_x64", ...)`` between timings
(the library reads the default dtype when it builds arrays, so both precisions go through the
same code); rounds alternate between the two precisions. Reported: throughput in each and the
ratio float32 / float64 (on CPUs expect ~1-2x from twice the SIMD width and half the bytes; on
GPUs with weak float64 units, much more). float64 is what the tests and the CLI use; float32 is
``batchramp --x32``.
"""

from __future__ import annotations

import statistics
import time

import _harness as H

DESCRIPTION = "float32 vs float64 throughput of bt.simulate and bt.expected_risk"


def main():
    args = H.parse(DESCRIPTION)
    import jax

    import batchramp_theory as bt

    sim_cfg = (512, 128, 400) if args.quick else (2000, 256, 1000)  # dim, runs, steps
    rec_cfg = (100_000, 500) if args.quick else (1_000_000, 1000)  # dim, steps
    p_sim = bt.power_law_problem(sim_cfg[0], 2.0, 0.5, noise=0.5)
    p_rec = bt.power_law_problem(rec_cfg[0], 2.0, 0.5, noise=0.5)
    s_sim = bt.constant(0.2, 64, sim_cfg[2])
    s_rec = bt.constant(0.3, 4, rec_cfg[1])
    jobs = {
        "simulate": (lambda: bt.simulate(p_sim, s_sim, num_runs=sim_cfg[1], seed=0), sim_cfg[0] * sim_cfg[1] * sim_cfg[2], "coord-steps/s"),
        "recursion": (lambda: bt.expected_risk(p_rec, s_rec), rec_cfg[0] * rec_cfg[1], "mode-steps/s"),
    }
    rep = H.Report("precision", DESCRIPTION, args, definitions={
        "simulate": f"bt.simulate d={sim_cfg[0]} runs={sim_cfg[1]} steps={sim_cfg[2]} B=64, every step recorded",
        "recursion": f"bt.expected_risk d={rec_cfg[0]} steps={rec_cfg[1]} (SGD)",
        "switch": "jax.config.update('jax_enable_x64', x64) before each timed call; one untimed compile call per precision",
    })
    times = {(j, x64): [] for j in jobs for x64 in (False, True)}
    for x64 in (False, True):  # compile both precisions first
        jax.config.update("jax_enable_x64", x64)
        for fn, _, _ in jobs.values():
            fn()
    for _ in range(args.repeat):
        for x64 in (False, True):
            jax.config.update("jax_enable_x64", x64)
            for j, (fn, _, _) in jobs.items():
                t0 = time.perf_counter()
                fn()  # returns NumPy: synchronised
                times[(j, x64)].append(time.perf_counter() - t0)
    jax.config.update("jax_enable_x64", True)
    for j, (_, work, unit) in jobs.items():
        rates = {}
        for x64 in (False, True):
            tmin = min(times[(j, x64)])
            rates[x64] = work / tmin
            rep.result(f"{j} {'float64' if x64 else 'float32'}", rates[x64], unit, min_s=tmin,
                       median_s=statistics.median(times[(j, x64)]))
        rep.ratio(f"{j} float32/float64", rates[False] / rates[True], definition="throughput ratio")
    rep.finish()


if __name__ == "__main__":
    main()
