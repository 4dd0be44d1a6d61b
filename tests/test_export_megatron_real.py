"""The Megatron exports against megatron-core's own calculator classes (not a re-implementation).

megatron-core needs torch (its package ``__init__`` imports it), so it is not a dependency here;
but ``megatron/core/num_microbatches_calculator.py`` itself imports only the standard library and
is loaded from its file. Sources, each tested when present (docs/export.md, "Megatron-LM"):

* an installed ``megatron-core`` distribution (its file located without importing the package);
* files listed in ``BATCHRAMP_MEGATRON_CALCULATOR`` (``os.pathsep``-separated), e.g. the file from
  the 0.16.1 wheel (``pip download megatron-core==0.16.1 --no-deps``; legacy ramp) and from
  Megatron-LM's main branch (step schedule).

A file without the class a test needs skips that test; with no file at all, every test here skips.
"""

import importlib.metadata
import importlib.util
import os
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest

import batchramp_theory as bt
from batchramp_theory import export as ex

jax.config.update("jax_enable_x64", True)


def _candidates():
    paths = [p for p in os.environ.get("BATCHRAMP_MEGATRON_CALCULATOR", "").split(os.pathsep) if p]
    try:
        f = importlib.metadata.distribution("megatron-core").locate_file("megatron/core/num_microbatches_calculator.py")
        paths.append(str(f))
    except importlib.metadata.PackageNotFoundError:
        pass
    mods = []
    for i, p in enumerate(paths):
        if Path(p).is_file():
            spec = importlib.util.spec_from_file_location(f"_megatron_calculator_{i}", p)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            mods.append(pytest.param(mod, id=Path(p).parent.name + "/" + str(i)))
    return mods or [pytest.param(None, id="absent")]


CALCULATORS = _candidates()


def plan(seq=64):
    base = bt.half_cosine_lr(1.0, 2e7, 0.1, warmup_fraction=0.1, warmup_start=0.1)
    return bt.ramp_schedule(base, 32, bt.seesaw_rule(1.1), tokens_per_sample=seq)


def _run(calc, steps):
    out, seen = [], 0
    for _ in range(steps):
        calc.update(seen, consistency_check=True)  # asserts divisibility by micro x dp
        b = calc.get_current_global_batch_size()
        out.append(b)
        seen += b
    return np.array(out)


@pytest.mark.parametrize("mod", CALCULATORS)
@pytest.mark.parametrize("micro, dp", [(1, 1), (2, 4), (3, 5)])
def test_step_schedule_against_megatron(mod, micro, dp):
    if mod is None or not hasattr(mod, "StepBatchsizeNumMicroBatchesCalculator"):
        pytest.skip("no megatron-core calculator with StepBatchsizeNumMicroBatchesCalculator")
    p = plan()
    rr = ex.quantize(p, "megatron", micro_batch=micro, data_parallel=dp)
    schedule = ex.render(rr).split('"')[1]
    calc = mod.StepBatchsizeNumMicroBatchesCalculator(micro, dp, False, 1, schedule, seq_length=p.tokens_per_sample)
    np.testing.assert_array_equal(_run(calc, rr.schedule.steps), rr.schedule.batch)
    # Negative control: the same text read as samples (no seq_length) is a different run.
    calc2 = mod.StepBatchsizeNumMicroBatchesCalculator(micro, dp, False, 1, schedule, seq_length=None)
    assert np.any(_run(calc2, rr.schedule.steps) != rr.schedule.batch)


@pytest.mark.parametrize("mod", CALCULATORS)
@pytest.mark.parametrize("micro, dp", [(1, 1), (2, 4), (3, 5)])
def test_legacy_rampup_against_megatron(mod, micro, dp):
    if mod is None or not hasattr(mod, "RampupBatchsizeNumMicroBatchesCalculator"):
        pytest.skip("no megatron-core calculator with RampupBatchsizeNumMicroBatchesCalculator (<= 0.16)")
    p = plan()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rr = ex.quantize(p, "megatron-legacy", micro_batch=micro, data_parallel=dp)
    c = rr.config
    calc = mod.RampupBatchsizeNumMicroBatchesCalculator(c["global_batch_size"], micro, dp, False, 1, c["start"],
                                                        c["increment"], c["ramp_samples"])
    np.testing.assert_array_equal(_run(calc, rr.schedule.steps), rr.schedule.batch)
    # Negative control: MaxText's stage rule (counter reset) on the same numbers differs from Megatron's.
    mt = ex.quantize(p, "maxtext", micro_batch=micro, data_parallel=dp)
    assert mt.schedule.steps != rr.schedule.steps or np.any(mt.schedule.batch != rr.schedule.batch)
