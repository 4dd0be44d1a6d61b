"""Exporters: a computed batch ramp as the settings of the frameworks people train with.

``quantize(plan, format, micro_batch=, data_parallel=, seq_len=)`` maps the ideal ramp of
:func:`batchramp_theory.ramp_schedule` to the nearest schedule the framework can run (a
:class:`RunnableRamp`), ``render`` gives the text to paste, and ``quantization_cost`` prices the
difference with the exact recursion (final risk against the ideal ramp and the LR-decay base,
serial steps, and where the batch passes ``B_noise``). One module per format holds that
framework's parser and run semantics, each citing the framework's source (docs/export.md).
"""

from ..problem_file import load_problem
from . import from_schedule, levanter, maxtext, megatron, olmo_core, optax_schedule
from .cost import QuantizationCost, default_cost_lr, quantization_cost
from .quantize import FORMATS, quantize, render
from .stages import Constraints, RunnableRamp, constraints, ideal_stages, lr_in_samples, nearest_multiple

__all__ = [
    "FORMATS", "quantize", "render", "Constraints", "RunnableRamp", "constraints", "ideal_stages", "lr_in_samples",
    "nearest_multiple", "QuantizationCost", "quantization_cost", "default_cost_lr", "load_problem",
    "megatron", "maxtext", "olmo_core", "levanter", "optax_schedule", "from_schedule",
]
