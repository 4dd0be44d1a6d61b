"""The planner_front figure in quick mode: files, claims, and the schedules stored in its JSON."""

import json

import numpy as np

from batchramp_theory.figures import FIGURES, Claim, make_figure
from batchramp_theory.figures.planner_front import ramp_within


def test_ramp_within_pads_faster_ramps():
    # A ramp hitting in 10 steps with 100 samples is a 15-step schedule with 105 (5 padding steps of batch 1).
    pts = np.array([[10.0, 100.0], [20.0, 50.0], [12.0, 300.0]])
    assert ramp_within(pts, [9, 10, 15, 20, 30]).tolist() == [np.inf, 100.0, 105.0, 50.0, 60.0]


def test_planner_front_quick(tmp_path):
    names = list(FIGURES)
    assert names.index("planner_front") > names.index("optimal_lr_vs_batch")
    claims = make_figure("planner_front", tmp_path, quick=True)
    assert len(claims) == 7 and all(isinstance(c, Claim) and c.figure == "planner_front" for c in claims)
    assert all(c.passed for c in claims), [c for c in claims if not c.passed]
    for ext in ("png", "pdf", "json"):
        assert (tmp_path / f"planner_front.{ext}").stat().st_size > 0

    payload = json.loads((tmp_path / "planner_front.json").read_text())
    sgd = payload["data"]["SGD"]
    pts = sgd["plan"]["points"]
    assert len(pts) >= 5
    for p in pts:  # each stored schedule is the integer schedule whose samples the front reports
        batch = np.asarray(p["batch"])
        assert len(p["lr"]) == len(batch) == p["steps"]
        assert np.all(batch >= 1) and batch.sum() == p["samples"] and batch.max() <= payload["data"]["config"]["max_batch"]
        assert p["risk"] <= sgd["plan"]["target"]
    steps = [p["steps"] for p in pts]
    assert steps == sorted(steps)
    # The ramp claims' statistic is the smallest stored margin, and the claim text states it in percent.
    for c in claims:
        if "ramps on or above" in c.name:
            ramp = sgd["ramps"][c.name.split(": ", 1)[1].split(" ramps")[0]]
            margins = [m for m in ramp["margin_at_K"] if m != "inf"]
            assert np.isclose(min(margins), c.statistic, rtol=0, atol=1e-12)
            assert f"{100 * c.statistic:.1f}% more samples" in c.reason
    const = next(c for c in claims if "constant" in c.name)
    assert "fewer samples than the best constant schedule" in const.reason
