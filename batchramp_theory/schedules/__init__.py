"""Learning-rate and batch-size schedules, in one package.

* :mod:`.per_step`: the per-step :class:`Schedule` arrays (``lr[k]``, ``batch[k]``), their
  concatenation and :func:`stack_schedules`, what every engine consumes;
* :mod:`.step_schedules`: per-step constructors (:func:`constant`, :func:`step_decay`,
  :func:`cosine`, and the FSL papers' :func:`wsd`, :func:`cyclic`, :func:`two_stage`);
* :mod:`.sample_schedules` and :mod:`.sample_profiles`: base schedules as functions of samples
  (:class:`LRSchedule` and its profiles, ``LRSchedule.to_schedule`` to a per-step run);
* :mod:`.warmup`: the one linear-warmup convention both families use (:func:`linear_warmup`).
* :mod:`.shapes`: the cosine and linear annealing curves both families share (internal).
"""

from .per_step import Schedule, stack_schedules
from .sample_profiles import (
    constant_lr,
    exponential_lr,
    half_cosine_lr,
    linear_lr,
    olmo_cosine_lr,
    quarter_cosine_lr,
    step_lr,
    wsd_lr,
)
from .sample_schedules import LRSchedule
from .step_schedules import constant, cosine, cyclic, step_decay, two_stage, wsd
from .warmup import linear_warmup

__all__ = [
    "LRSchedule",
    "Schedule",
    "constant",
    "constant_lr",
    "cosine",
    "cyclic",
    "exponential_lr",
    "half_cosine_lr",
    "linear_lr",
    "linear_warmup",
    "olmo_cosine_lr",
    "quarter_cosine_lr",
    "stack_schedules",
    "step_decay",
    "step_lr",
    "two_stage",
    "wsd",
    "wsd_lr",
]

# Document every public name at the package path, the one users import from, whatever
# submodule defines it (the submodules are a layout, not an interface).
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
