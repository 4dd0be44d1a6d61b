"""Eager argument checks shared by the public constructors.

Every check runs in Python on concrete values, before anything is traced, and raises a
``ValueError`` that names the offending argument. Traced values (inside ``jit``/``grad``)
are passed through unchecked: they cannot be inspected, and the public entry points have
already validated them on the way in.
"""

from __future__ import annotations

import jax
import numpy as np


def is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def as_float_array(name: str, x, *, ndim: int | None = None) -> np.ndarray:
    """Convert ``x`` to a float64 NumPy array, rejecting NaN/inf and wrong ranks."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {x!r}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_positive(name: str, x, *, strict: bool = True) -> None:
    arr = np.asarray(x)
    bad = arr <= 0 if strict else arr < 0
    if np.any(bad):
        rel = "positive" if strict else "non-negative"
        raise ValueError(f"{name} must be {rel}, got {arr[bad].ravel()[:3]}")


def check_scalar(name: str, x, *, low=None, high=None, low_open=False, high_open=False) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real number, got {x!r}") from exc
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        op = ">" if low_open else ">="
        raise ValueError(f"{name} must be {op} {low}, got {v}")
    if high is not None and (v > high or (high_open and v == high)):
        op = "<" if high_open else "<="
        raise ValueError(f"{name} must be {op} {high}, got {v}")
    return v


def check_int(name: str, x, *, low: int | None = None) -> int:
    if isinstance(x, bool) or not float(x).is_integer():
        raise ValueError(f"{name} must be an integer, got {x!r}")
    v = int(x)
    if low is not None and v < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    return v


def record_index(record_steps, kmax: int) -> np.ndarray:
    """Validated integer step indices in ``[0, kmax]`` (the ``record_steps`` argument of the engines)."""
    idx = np.asarray(record_steps)
    if idx.ndim != 1 or idx.size == 0 or not np.all(idx == np.floor(idx)):
        raise ValueError("record_steps must be a non-empty 1-d sequence of integer steps")
    idx = idx.astype(np.int64)
    if idx.min() < 0 or idx.max() > kmax:
        raise ValueError(f"record_steps must lie in [0, {kmax}], got [{idx.min()}, {idx.max()}]")
    return idx


def renamed_arguments(**old_to_new):
    """Decorator: accept the old keyword names ``old_to_new`` for one release, with a ``DeprecationWarning``.

    ``@renamed_arguments(total_samples="budget")`` lets ``f(total_samples=x)`` call ``f(budget=x)``;
    passing both names is an error.
    """
    import functools
    import warnings

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {old!r} (deprecated) and {new!r}")
                    warnings.warn(
                        f"{fn.__name__}(): argument {old!r} is deprecated; use {new!r}",
                        DeprecationWarning, stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return inner

    return wrap
