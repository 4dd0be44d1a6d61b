"""Eager argument checks shared by the public constructors.

Every check runs in Python on concrete values, before anything is traced, and raises a
``ValueError`` that names the offending argument. Traced values (inside ``jit``/``grad``)
are passed through unchecked: they cannot be inspected, and the public entry points have
already validated them on the way in.
"""

from __future__ import annotations

import numpy as np
import jax


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
