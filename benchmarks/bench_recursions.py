"""(c) The exact recursions in mode-steps per second, against a NumPy loop and a memory-bandwidth bound.

A mode-step is one eigenmode of one schedule advanced by one step (``S * K * d`` per call of
``bt.expected_risk`` on a stack of ``S`` schedules of ``K`` steps). The SGD recursion
``m' = q m + (lr^2/B) lambda (sum_j lambda_j m_j + sigma^2)`` must at least read ``m`` and
``lambda`` and write ``m``: 24 bytes per mode-step in float64 (12 in float32). Baselines, timed
in the same run:

- **NumPy loop**: the same recursion, one vectorised NumPy expression per step in a Python loop
  (what one would write without JAX); compared on the first ``K_np`` steps, rates per mode-step.
- **Bandwidth bound** (the memory-bandwidth estimate the target refers to): a STREAM-triad-like
  kernel ``a <- c a + b`` over arrays of the same size ``S * d`` inside the same kind of jitted
  ``lax.scan`` (24 bytes per element-step in float64, the recursion's minimal traffic); its
  element-steps/s is the rate the recursion would reach if it were purely bandwidth-bound.
  **Target: recursion >= 0.5 of it where the working set exceeds the last-level cache**
  (``2 * S * d`` words >= 1.5x this host's last-level cache, read from sysfs: ``d = 4e6`` for a 32 MiB L3,
  ``4.8e7`` for 480 MiB), i.e. where memory bandwidth is what limits.
  For working sets in cache the same-size triad measures cache bandwidth and loop overhead, not
  memory; those rows report the ratio without a target, plus a roofline view:
- **DRAM roofline**: the triad at that out-of-cache size, measured once per run; recursion /
  roofline says how the in-cache recursion compares with what memory bandwidth alone would allow.

The recursion (``u_j = w_j lambda_j m_j`` form, the "risk" form of ``optimizer.recursion``, batchramp_theory.optimizers) does one fused
elementwise pass (read ``u``, ``lambda``; write ``u``) and one plain reduction over ``u`` per
step (a separate pass on XLA:CPU): 32 bytes per mode-step, so ~0.75 of the bound is its ceiling
on a bandwidth-bound machine unless the compiler fuses the reduction. A third baseline shows what
the compiler makes of that dataflow skeleton alone:

- **update+reduce skeleton**: a scan doing ``a <- c(s) a + b; s <- sum(b a)`` (one elementwise
  pass feeding one full reduction per step, the recursion's dependency structure with the least
  arithmetic); recursion / skeleton near 1 means the recursion loses nothing beyond its
  structure.
"""

from __future__ import annotations

import _harness as H

DESCRIPTION = "exact recursion mode-steps/s vs NumPy loop and a triad bandwidth bound"


def _last_level_cache_bytes() -> int:
    """The largest CPU cache on this host (Linux sysfs), 32 MiB if it cannot be read."""
    import glob

    sizes = []
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            text = open(path).read().strip().upper()
            mult = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1], 1)
            sizes.append(int(text.rstrip("KMG")) * mult)
        except (OSError, ValueError):
            continue
    return max(sizes) if sizes else 32 * 2**20


def main():
    args = H.parse(DESCRIPTION)
    import jax
    import jax.numpy as jnp
    import numpy as np

    import batchramp_theory as bt

    dt = jnp.zeros(()).dtype
    word = jnp.finfo(dt).bits // 8
    # "Out of cache" is judged against this host's last-level cache: two arrays of d words must be at
    # least 1.5x its size (a 32 MiB L3 gives d = 4e6, the size first chosen; a 480 MiB L3 needs 4.8e7).
    llc = _last_level_cache_bytes()
    out_of_cache_bytes = int(1.5 * llc)
    d_out = max(4_000_000, -(-out_of_cache_bytes // (2 * word * 1_000_000)) * 1_000_000)
    k_out = max(30, int(400_000_000 // d_out))  # ~4e8 mode-steps per timing
    configs = [(1000, 1, 4000), (1000, 16, 4000), (100_000, 1, 1000), (d_out, 1, k_out)] if args.quick else [
        (1000, 1, 20000), (1000, 64, 5000), (100_000, 1, 4000), (100_000, 8, 1000), (1_000_000, 1, 1000),
        (d_out, 1, 3 * k_out), (500_000, 16, 200)]
    rep = H.Report("recursions", DESCRIPTION, args, definitions={
        "mode_steps_per_s": "S * K * d / min wall time of bt.expected_risk on S constant schedules of K steps",
        "numpy_loop": "m = q*m + c*lam*(lam @ m + s2) per step in a Python loop over K_np steps (float64 NumPy)",
        "triad_bound": "jitted lax.scan over K steps of a <- 1.0001*a + b on (S*d,) arrays: element-steps/s, 3 words per element-step",
        "dram_roofline": "the same triad on (d_out,) arrays, d_out sized out of this host's last-level cache: memory bandwidth in element-steps/s",
        "last_level_cache_bytes": llc,
        "skeleton": "jitted lax.scan over K steps of a <- c(s)*a + b; s <- sum(b*a) on (S*d,) arrays",
        "bytes_per_mode_step_minimal": 3 * word,
    })
    # Working sets of at least out_of_cache_bytes (two arrays of S*d words) are out of cache: there the
    # same-size triad measures memory bandwidth.
    n_dram, k_dram = d_out, k_out

    @jax.jit
    def dram_triad(a, b):
        return jax.lax.scan(lambda a, _: (a * 1.0001 + b, None), a, None, length=k_dram)[0]

    a_dram, b_dram = jnp.ones(n_dram, dt), jnp.full(n_dram, 1e-9, dt)
    t_dram = H.time_interleaved({"dram": lambda: dram_triad(a_dram, b_dram)}, args.repeat)["dram"]["min_s"]
    roofline = n_dram * k_dram / t_dram
    rep.result(f"DRAM roofline (triad, d={d_out:.0e})", roofline, "elem-steps/s", dim=n_dram, steps=k_dram,
               bandwidth_GBps=roofline * 3 * word / 1e9)
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
        memory_bound = 2 * n_el * word >= out_of_cache_bytes
        rep.ratio(f"recursion/bandwidth-bound d={d} S={s_count}", rate["recursion"] / rate["triad"],
                  target=0.5 if memory_bound else None,
                  definition="mode-steps/s over the same-size triad's element-steps/s (same bytes per step at "
                             "minimal traffic); target only where the working set is out of cache")
        rep.ratio(f"recursion/DRAM-roofline d={d} S={s_count}", rate["recursion"] / roofline,
                  definition="mode-steps/s over the out-of-cache triad's element-steps/s (memory bandwidth / 24 B)")
        rep.ratio(f"recursion/skeleton d={d} S={s_count}", rate["recursion"] / rate["skeleton"],
                  definition="mode-steps/s over the update+reduce skeleton's element-steps/s")
    rep.finish()


if __name__ == "__main__":
    main()
