"""MaxText's batch ramp: ``enable_rampup_batch_size`` with per-device start, increment and target.

Semantics, from MaxText's ``src/maxtext/utils/rampup_batch.py`` (``RampupBatchManager``) and
``src/maxtext/configs/base.yml`` (docs/export.md, "MaxText"): the global batch is
``int(devices x per_device)``; ``n = (per_device_batch_size - per_device_batch_size_start) /
per_device_batch_size_increment`` must be a positive whole number and ``global_rampup_samples >
0``; each stage trains until the samples accumulated *in that stage* reach ``global_rampup_samples
/ n``, then the batch grows by ``devices x increment`` and the counter **resets to 0** (the
overshoot of a stage is not carried over). Its stage boundaries therefore fall later than those of
Megatron's legacy ramp with the same numbers, whose boundaries are fixed in consumed samples.
"""

from __future__ import annotations

import numpy as np

from .stages import linear_ramp_increments, run_length_cap

__all__ = ["check_maxtext", "maxtext_batches", "render_maxtext", "parse_maxtext"]

_KEYS = ("enable_rampup_batch_size", "per_device_batch_size_start", "per_device_batch_size_increment",
         "per_device_batch_size", "global_rampup_samples")


def check_maxtext(config: dict) -> int:
    """Validate as ``RampupBatchManager._verify_inputs``; returns ``n``; ``ValueError`` naming the key."""
    start, inc = float(config["per_device_batch_size_start"]), float(config["per_device_batch_size_increment"])
    end, samples = float(config["per_device_batch_size"]), float(config["global_rampup_samples"])
    if samples <= 0:
        raise ValueError(f"maxtext: global_rampup_samples must be positive, got {samples:g}")
    return linear_ramp_increments(
        start, inc, end, what="maxtext",
        names=("per_device_batch_size_start", "per_device_batch_size_increment", "per_device_batch_size"))


def maxtext_batches(config: dict, devices: int, budget_samples: float) -> np.ndarray:
    """Per-step global batches as ``RampupBatchManager.update`` produces them, until the budget is consumed."""
    n = check_maxtext(config)
    spi = float(config["global_rampup_samples"]) / n
    end = int(devices * float(config["per_device_batch_size"]))
    cur = int(devices * float(config["per_device_batch_size_start"]))
    inc = int(devices * float(config["per_device_batch_size_increment"]))
    out, seen, accum = [], 0, 0
    while seen < budget_samples:
        out.append(cur)
        seen += cur
        if cur < end:  # update() runs while the ramp is active
            accum += cur
            if accum >= spi:
                cur, accum = min(cur + inc, end), 0
        if len(out) > run_length_cap:
            raise ValueError("maxtext: the schedule does not reach the budget")
    return np.array(out, dtype=np.int64)


def render_maxtext(config: dict) -> str:
    """The ramp as MaxText command-line overrides (``key=value``, the form ``train.py`` accepts after the yml)."""
    vals = {k: config[k] for k in _KEYS}
    vals["enable_rampup_batch_size"] = "true"
    return " ".join(f"{k}={_fmt(v)}" for k, v in vals.items())


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def parse_maxtext(text: str) -> dict:
    """The ramp keys from ``key=value`` overrides (the inverse of :func:`render_maxtext`)."""
    out = {}
    for tok in text.split():
        if "=" not in tok:
            raise ValueError(f"maxtext: {tok!r} is not key=value")
        k, v = tok.split("=", 1)
        if k in _KEYS:
            out[k] = v if k == "enable_rampup_batch_size" else float(v)
    missing = [k for k in _KEYS if k not in out]
    if missing:
        raise ValueError(f"maxtext: missing {', '.join(missing)}")
    if out["enable_rampup_batch_size"].lower() != "true":
        raise ValueError("maxtext: enable_rampup_batch_size must be true")
    return out
