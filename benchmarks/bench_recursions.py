"""(c) The exact recursions in mode-steps per second, against a NumPy loop and a memory-bandwidth bound.

A mode-step is one eigenmode of one schedule advanced by one step (``S * K * d`` per call of
``bt.expected_risk`` on a stack of ``S`` schedules of ``K`` steps). The SGD recursion
``m' = q m + (lr^2/B) lambda (sum_j lambda_j m_j + sigma^2)`` must at least read ``m`` and
``lambda`` and write ``m``: 24 bytes per mode-step in float64 (12 in float32). Baselines, timed
in the same run:

- **NumPy loop**: the same recursion, one vectorised NumPy expression per step in a Python loop
  (what one would write without JAX); compared on the first ``K_np`` steps, rates per mode-step.
- **Bandwidth bound**: a STREAM-triad-like kernel ``a <- c a + b`` over arrays of the same size
  ``S * d`` inside the same kind of jitted ``lax.scan`` (24 bytes per element-step in float64);
  its element-steps/s is the rate the recursion would reach if it were purely bandwidth-bound at
  its minimal traffic. Target: recursion >= 0.5 of it. For small ``d`` everything is in cache
  and both are bound by the per-step loop overhead, so the ratio there measures overhead.

The recursion does one fused elementwise pass and one reduction per step (the reduction is a
separate pass on XLA:CPU), i.e. ~40 bytes per mode-step, so ~0.6 of the bound is its ceiling on
a bandwidth-bound machine unless the compiler fuses the reduction. A third baseline shows what
the compiler makes of that dataflow skeleton alone:

- **update+reduce skeleton**: a scan doing ``a <- c(s) a + b; s <- sum(b a)`` (one elementwise
  pass feeding one full reduction per step, the recursion's dependency structure with the least
  arithmetic); recursion / skeleton near 1 means the recursion loses nothing beyond its
  structure.
"""

from __future__ import annotations

import _harness as H

DESCRIPTION = "exact recursion mode-steps/s vs NumPy loop and a triad bandwidth bound"


def main():
    args = H.parse(DESCRIPTION)
    import jax
    import jax.numpy as jnp
    import numpy as np

    import batchramp_theory as bt

    configs = [(1000, 1, 4000), (1000, 16, 4000), (100_000, 1, 1000)] if args.quick else [
        (1000, 1, 20000), (1000, 64, 5000), (100_000, 1, 4000), (100_000, 8, 1000), (1_000_000, 1, 1000)]
    dt = jnp.zeros(()).dtype
    word = jnp.finfo(dt).bits // 8
    rep = H.Report("recursions", DESCRIPTION, args, definitions={
        "mode_steps_per_s": "S * K * d / min wall time of bt.expected_risk on S constant schedules of K steps",
        "numpy_loop": "m = q*m + c*lam*(lam @ m + s2) per step in a Python loop over K_np steps (float64 NumPy)",
        "triad_bound": "jitted lax.scan over K steps of a <- 1.0001*a + b on (S*d,) arrays: element-steps/s, 3 words per element-step",
        "skeleton": "jitted lax.scan over K steps of a <- c(s)*a + b; s <- sum(b*a) on (S*d,) arrays",
        "bytes_per_mode_step_minimal": 3 * word,
    })
    for d, s_count, k in configs:
        p = bt.power_law_problem(d, 2.0, 0.5, noise=0.5)
        scheds = [bt.constant(0.3 + 0.01 * i, 4, k) for i in range(s_count)]
        one = scheds if s_count > 1 else scheds[0]
        n_el = s_count * d

        @jax.jit
        def triad(a, b):
            def body(a, _):
                return a * 1.0001 + b, None

            return jax.lax.scan(body, a, None, length=k)[0]

        @jax.jit
        def skeleton(a, b):
            def body(carry, _):
                a, s_ = carry
                a = a * (1.0001 + 1e-30 * s_) + b
                return (a, jnp.sum(b * a)), None

            return jax.lax.scan(body, (a, jnp.zeros((), dt)), None, length=k)[0]

        a0, b0 = jnp.ones(n_el, dt), jnp.full(n_el, 1e-9, dt)
        lam = np.asarray(p.eigenvalues)
        theta2 = np.asarray(p.target) ** 2
        k_np = max(10, min(k, int(2e8 // (n_el * 20))))  # keep the NumPy loop to seconds

        def numpy_loop():
            m = np.tile(theta2, (s_count, 1))
            lr = np.array([0.3 + 0.01 * i for i in range(s_count)])[:, None]
            q = (1 - lr * lam) ** 2 + lr**2 * lam**2 / 4
            c = (lr**2 / 4) * lam
            for _ in range(k_np):
                m = q * m + c * ((m @ lam)[:, None] + 0.25)
            return m

        fns = {
            "recursion": lambda: bt.expected_risk(p, one),
            "triad": lambda: triad(a0, b0),
            "skeleton": lambda: skeleton(a0, b0),
            "numpy": numpy_loop,
        }
        t = H.time_interleaved(fns, args.repeat if n_el * k < 5e9 else max(3, args.repeat // 2))
        rate = {"recursion": s_count * k * d / t["recursion"]["min_s"], "triad": n_el * k / t["triad"]["min_s"],
                "skeleton": n_el * k / t["skeleton"]["min_s"],
                "numpy": s_count * k_np * d / t["numpy"]["min_s"]}
        ctx = dict(dim=d, schedules=s_count, steps=k)
        rep.result(f"recursion d={d} S={s_count}", rate["recursion"], "mode-steps/s", **ctx, min_s=t["recursion"]["min_s"])
        rep.result(f"triad d={d} S={s_count}", rate["triad"], "elem-steps/s", **ctx,
                   bandwidth_GBps=rate["triad"] * 3 * word / 1e9)
        rep.result(f"skeleton d={d} S={s_count}", rate["skeleton"], "elem-steps/s", **ctx)
        rep.result(f"numpy d={d} S={s_count}", rate["numpy"], "mode-steps/s", **dict(ctx, steps=k_np))
        rep.ratio(f"recursion/numpy d={d} S={s_count}", rate["recursion"] / rate["numpy"],
                  definition="mode-steps/s of bt.expected_risk over the NumPy loop")
        rep.ratio(f"recursion/bandwidth-bound d={d} S={s_count}", rate["recursion"] / rate["triad"], target=0.5,
                  definition="mode-steps/s over the triad's element-steps/s (same bytes per step at minimal traffic)")
        rep.ratio(f"recursion/skeleton d={d} S={s_count}", rate["recursion"] / rate["skeleton"],
                  definition="mode-steps/s over the update+reduce skeleton's element-steps/s")
    rep.finish()


if __name__ == "__main__":
    main()
