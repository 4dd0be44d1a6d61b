"""(i) The planner: a 10-point front on a dim = 1000 problem with 10^4 steps, and its gradient.

``bt.plan`` on ``power_law_problem(1000, 2, 0.5, noise=0.5)`` (target excess risk 5e-3, budget
1e7 samples, batch <= 1024, horizons up to 10^4 steps, 10 points): its wall time, including every
compile (target: under 60 s on 2 CPU cores), and that the descent compiled once for every horizon
and stage (jit once per problem shape). Baselines timed in the same run: one exact forward pass
of a 10^4-step schedule (``final_readout``), and the gradient of the final risk in ``lr`` and
``batch`` by the custom VJP of ``bt.moments.final_readout`` against reverse-mode autodiff through
``bt.moments.trajectory`` (the reason the custom VJP exists).
"""

from __future__ import annotations

import time

import _harness as H
import numpy as np

DESCRIPTION = "planner: 10-point front at dim=1000, 10^4 steps (target < 60 s); custom-VJP gradient vs autodiff"


def main():
    args = H.parse(DESCRIPTION)
    import jax
    import jax.numpy as jnp

    import batchramp_theory as bt
    from batchramp_theory.moments import final_readout, mode_arrays, trajectory

    dim, steps, points = (200, 2000, 5) if args.quick else (1000, 10_000, 10)
    problem = bt.power_law_problem(dim, 2.0, 0.5, noise=0.5)
    rep = H.Report("planner", DESCRIPTION, args, definitions={
        "problem": f"power_law_problem({dim}, 2.0, 0.5, noise=0.5)",
        "plan": f"bt.plan(problem, target=5e-3, budget=1e7, max_batch=1024, max_steps={steps}, points={points})",
        "plan_wall_s": "wall time of one bt.plan call in a fresh process state, every compile included",
        "forward_s": f"one exact final-risk forward pass of a {steps}-step schedule (final_readout, jitted)",
        "vjp_s / autodiff_s": "value and gradient in (lr, batch): custom VJP vs jax.grad through trajectory",
    })
    modes = mode_arrays(problem)
    rec = bt.SGD().recursion("risk")
    length = -(-steps // 64) * 64  # final_readout's arrays are whole segments; entries past `steps` are no-ops
    lr = jnp.full(length, 0.2) * jnp.linspace(1.0, 0.3, length)
    batch = jnp.full(length, 8.0) * jnp.linspace(1.0, 4.0, length)
    fwd = jax.jit(lambda lr, b: final_readout(rec, modes, lr, b, steps))
    vjp = jax.jit(jax.value_and_grad(lambda lr, b: final_readout(rec, modes, lr, b, steps), argnums=(0, 1)))
    auto = jax.jit(jax.value_and_grad(lambda lr, b: trajectory(rec, modes, lr[:steps], b[:steps])[-1], argnums=(0, 1)))
    t = H.time_interleaved({"forward": lambda: fwd(lr, batch), "vjp": lambda: vjp(lr, batch),
                            "autodiff": lambda: auto(lr, batch)}, args.repeat)
    for k in ("forward", "vjp", "autodiff"):
        rep.result(f"{k}_s", t[k]["min_s"], "s", median_s=t[k]["median_s"])
    g1, g2 = vjp(lr, batch)[1], auto(lr, batch)[1]
    rep.result("gradient max relative difference (vjp vs autodiff)",
               float(max(np.max(np.abs(np.asarray(a - b))) / np.max(np.abs(np.asarray(b))) for a, b in zip(g1, g2))), "1")
    rep.ratio("autodiff_s / vjp_s", t["autodiff"]["min_s"] / t["vjp"]["min_s"], target=2.0,
              definition="gradient speed-up of the custom VJP over autodiff through the scan")
    rep.ratio("vjp_s / forward_s", t["vjp"]["min_s"] / t["forward"]["min_s"],
              definition="cost of a gradient in forward passes")

    t0 = time.perf_counter()
    pl = bt.plan(problem, target=5e-3, budget=10**7, max_batch=1024, max_steps=steps, points=points)
    wall = time.perf_counter() - t0
    rep.result("plan_wall_s", wall, "s", points=len(pl.points), front_points=int(pl.on_front.sum()),
               steps=pl.steps.tolist(), samples=pl.samples.tolist())
    rep.result("plan compiles of the descent", float(pl.compiles), "1",
               note="compiles of the jitted descent over all horizons and stages (Plan.compiles)")
    rep.ratio("60 s / plan_wall_s", 60.0 / wall, target=1.0, definition="the one-minute target over the planner's wall time")
    rep.ratio("plan_wall_s / forward_s", wall / t["forward"]["min_s"],
              definition="the whole front in exact forward passes of the longest horizon")
    rep.finish()


if __name__ == "__main__":
    main()
