"""(h) The infinite-dimensional limit: cost and accuracy of the quadrature against exact modes.

``power_law_problem(dim, ..., quadrature=1000)`` (at most 1000 weighted nodes) against the exact
``dim``-mode problem, same schedule (a batch ramp then a cosine), same run: wall time of
``bt.expected_risk`` for each, their ratio (the speed-up), and the maximum relative error of the
quadrature over every step of the run. ``dim = inf`` is timed too (it has no exact counterpart;
its distance to the largest exact dim is reported, which includes that dim's truncation).
"""

from __future__ import annotations

import _harness as H
import numpy as np

DESCRIPTION = "quadrature (<= 1000 nodes) vs exact modes: recursion speed-up and max relative error"


def main():
    args = H.parse(DESCRIPTION)
    import batchramp_theory as bt

    dims = [10**5] if args.quick else [10**5, 10**6]
    steps = 1000 if args.quick else 3000
    cases = [(2.0, 0.5), (1.5, 0.3)]
    rep = H.Report("quadrature", DESCRIPTION, args, definitions={
        "schedule": f"constant(0.6, 2, {steps}) + constant(0.6, 8, {steps}) + cosine(0.6, 32, {steps})",
        "max_rel_err": "max over all steps of |risk_quadrature / risk_exact - 1|",
    })
    sched = bt.Schedule.concatenate([bt.constant(0.6, 2, steps), bt.constant(0.6, 8, steps), bt.cosine(0.6, 32, steps)])
    for beta, s in cases:
        q_inf = bt.power_law_problem(None, beta, s, noise=0.5, quadrature=1000)
        for dim in dims:
            exact = bt.power_law_problem(dim, beta, s, noise=0.5)
            quad = bt.power_law_problem(dim, beta, s, noise=0.5, quadrature=1000)
            fns = {"exact": lambda: bt.expected_risk(exact, sched), "quadrature": lambda: bt.expected_risk(quad, sched),
                   "inf": lambda: bt.expected_risk(q_inf, sched)}
            t = H.time_interleaved(fns, max(2, args.repeat // 2))
            r_e, r_q, r_i = (f() for f in fns.values())
            tag = f"beta={beta} s={s} dim={dim}"
            rep.result(f"exact {tag}", t["exact"]["min_s"], "s", nodes=dim)
            rep.result(f"quadrature {tag}", t["quadrature"]["min_s"], "s", nodes=quad.dim)
            rep.result(f"max_rel_err quadrature {tag}", float(np.max(np.abs(r_q / r_e - 1))), "1")
            rep.result(f"max_rel_err dim=inf vs exact {tag}", float(np.max(np.abs(r_i / r_e - 1))), "1",
                       note="includes the exact problem's truncation at dim")
            rep.ratio(f"speed-up {tag}", t["exact"]["min_s"] / t["quadrature"]["min_s"], definition="exact time / quadrature time")
    rep.finish()


if __name__ == "__main__":
    main()
