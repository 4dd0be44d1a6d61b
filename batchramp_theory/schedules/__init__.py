"""Learning-rate and batch-size schedules, in one package.

* :mod:`.per_step`: the per-step :class:`Schedule` arrays (``lr[k]``, ``batch[k]``), their
  concatenation and :func:`stack_schedules`, what every engine consumes;
* :mod:`.step_schedules`: per-step constructors (:func:`constant`, :func:`step_decay`,
  :func:`cosine`, and the FSL papers' :func:`wsd`, :func:`cyclic`, :func:`two_stage`);
* :mod:`.sample_schedules` and :mod:`.sample_profiles`: base schedules as functions of samples
  (:class:`LRSchedule` and its profiles, ``LRSchedule.to_schedule`` to a per-step run);
* :mod:`.warmup`: the one linear-warmup convention both families use (:func:`linear_warmup`).
"""

from .per_step import Schedule as Schedule, stack_schedules as stack_schedules
from .sample_profiles import (
    constant_lr as constant_lr,
    exponential_lr as exponential_lr,
    half_cosine_lr as half_cosine_lr,
    linear_lr as linear_lr,
    olmo_cosine_lr as olmo_cosine_lr,
    quarter_cosine_lr as quarter_cosine_lr,
    step_lr as step_lr,
    wsd_lr as wsd_lr,
)
from .sample_schedules import LRSchedule as LRSchedule
from .step_schedules import (
    constant as constant,
    cosine as cosine,
    cyclic as cyclic,
    step_decay as step_decay,
    two_stage as two_stage,
    wsd as wsd,
)
from .warmup import linear_warmup as linear_warmup

__all__ = [
    "Schedule",
    "stack_schedules",
    "constant",
    "step_decay",
    "cosine",
    "wsd",
    "cyclic",
    "two_stage",
    "LRSchedule",
    "constant_lr",
    "step_lr",
    "exponential_lr",
    "linear_lr",
    "wsd_lr",
    "quarter_cosine_lr",
    "half_cosine_lr",
    "olmo_cosine_lr",
    "linear_warmup",
]
