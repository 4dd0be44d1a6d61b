"""(a) The exact O(d) gradient sampler against the explicit B x d sampler and the bare draw of d normals.

Issue 2's speed benchmark: d = 2000, B = 16, 256, 4096. Each sampler runs in the same harness, a
jitted ``vmap`` over runs of a ``lax.scan`` over steps, where step ``k`` of a run draws one
mini-batch gradient with key ``fold_in(run_key, k)`` and applies an SGD step (so nothing is
dead code). Reported: seconds per gradient, and the ratios

- ``explicit / exact`` at each B (target >= 100 at B = 256),
- ``exact speed / bare-draw speed`` (target >= 0.5), where the bare draw is the same scan that
  only draws ``d`` standard normals per step and adds them to the iterate: the floor of any
  sampler that needs ``d`` fresh Gaussians per step.

Two arrangements of the exact sampler are timed: ``sample_gradient`` called at every step
(per-step, as a user would), and the simulator's arrangement (the three Gram scalars of a chunk
of steps drawn up front in one vectorised call, only the ``d`` normals inside the scan).
"""

from __future__ import annotations

from functools import partial

import _harness as H

DESCRIPTION = "exact O(d) sampler vs explicit B x d sampler vs bare d-normal draw (d=2000)"


def main():
    args = H.parse(DESCRIPTION)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from batchramp_theory.sampler import (
        gradient_from_gram,
        gram_statistics,
        sample_gradient,
        sample_gradient_explicit,
        split_step_key,
    )

    d = 2000
    runs = 8 if args.quick else 16
    steps = 32 if args.quick else 128
    batches = [16, 256, 4096]
    dt = jnp.zeros(()).dtype
    lam = jnp.asarray(np.arange(1, d + 1, dtype=np.float64) ** -2.0, dt)
    sigma, lr = 0.5, 0.1
    run_keys = jax.random.split(jax.random.key(0), runs)
    delta0 = -jnp.ones((runs, d), dt)

    def scan_runs(step_fn, n_steps):
        def one(key, delta):
            def body(delta, k):
                return step_fn(jax.random.fold_in(key, k), delta, k), None

            return jax.lax.scan(body, delta, jnp.arange(n_steps))[0]

        return jax.jit(jax.vmap(one))

    def bare(key, delta, k):
        return delta - lr * jax.random.normal(key, delta.shape, dt)

    def exact(b, key, delta, k):
        return delta - lr * sample_gradient(key, lam, delta, b, sigma)

    def explicit(b, key, delta, k):
        return delta - lr * sample_gradient_explicit(key, lam, delta, b, sigma, max_batch=b)

    def chunked(b, n_steps):
        # The simulator's arrangement: Gram scalars for all (run, step) first, then the scan.
        @jax.jit
        def run(keys, delta):
            steps_ = jnp.arange(n_steps)
            sk = jax.vmap(lambda rk: jax.vmap(partial(jax.random.fold_in, rk))(steps_))(keys)
            pair = jax.vmap(jax.vmap(split_step_key))(sk)
            aa, an, nn = gram_statistics(pair[..., 0], jnp.asarray(b, dt), dt)

            def one(kx, delta, aa, an, nn):
                def body(delta, inp):
                    k, a1, a2, a3 = inp
                    return delta - lr * gradient_from_gram(k, lam, delta, b, sigma, a1, a2, a3), None

                return jax.lax.scan(body, delta, (kx, aa, an, nn))[0]

            return jax.vmap(one)(pair[..., 1], delta, aa, an, nn)

        return run

    rep = H.Report("sampler", DESCRIPTION, args, definitions={
        "per_gradient_s": "min wall time of the jitted call / (runs * steps)",
        "bare_draw": "scan drawing d standard normals per step (same keys, same vmap/scan) and adding them to the iterate",
        "explicit": "sample_gradient_explicit: B x d Gaussian matrix, two mat-vecs",
        "exact_per_step": "sample_gradient at every step (Gram scalars and d normals inside the scan)",
        "exact_chunked": "the simulator's arrangement: Gram scalars of all steps drawn first, d normals in the scan",
    })
    fns, per = {}, {}
    fns["bare"] = (lambda f: lambda: f(run_keys, delta0))(scan_runs(bare, steps))
    per["bare"] = runs * steps
    for b in batches:
        fns[f"exact_per_step B={b}"] = (lambda f: lambda: f(run_keys, delta0))(scan_runs(partial(exact, b), steps))
        fns[f"exact_chunked B={b}"] = (lambda f: lambda: f(run_keys, delta0))(chunked(b, steps))
        per[f"exact_per_step B={b}"] = per[f"exact_chunked B={b}"] = runs * steps
        # Explicit: fewer steps at large B (same work per call, ~steps * 256 / B rows of d).
        n_exp = max(1, min(steps, (steps * 64) // b))
        fns[f"explicit B={b}"] = (lambda f: lambda: f(run_keys, delta0))(scan_runs(partial(explicit, b), n_exp))
        per[f"explicit B={b}"] = runs * n_exp
    t = H.time_interleaved(fns, args.repeat)
    sec = {k: t[k]["min_s"] / per[k] for k in fns}
    for k in fns:
        rep.result(f"{k} per gradient", sec[k], "s", median_s=t[k]["median_s"] / per[k], gradients_per_call=per[k], d=d)
    for b in batches:
        best = min(sec[f"exact_per_step B={b}"], sec[f"exact_chunked B={b}"])
        rep.ratio(f"explicit/exact B={b}", sec[f"explicit B={b}"] / best, target=100.0 if b == 256 else None,
                  definition="time per gradient, explicit over the faster exact arrangement")
        for arr in ("per_step", "chunked"):
            rep.ratio(f"exact_{arr} speed / bare-draw speed B={b}", sec["bare"] / sec[f"exact_{arr} B={b}"], target=0.5,
                      definition="(time per bare draw of d normals) / (time per exact gradient)")
    rep.finish()


if __name__ == "__main__":
    main()
