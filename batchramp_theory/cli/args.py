"""Argument parsing for the ``batchramp`` command line, in the user's words.

* :class:`Parser`: an ``argparse.ArgumentParser`` whose errors are one line
  (``batchramp seesaw: error: argument --tokens: must be > 0 ..., got -1e9 (see batchramp seesaw --help)``)
  with exit status 2, and which reads a negative number written after a flag (``--lr -3e-4``)
  as that flag's value.
* Value validators for ``type=``: :func:`number`, :func:`integer`, :func:`fraction`; each names the
  allowed range, and argparse prefixes the flag (``argument --seq-len: ...``).
* :func:`in_user_words`: a library ``ValueError`` rewritten with the flags instead of the library's
  parameter names (``tokens_per_sample`` -> ``--seq-len``), for errors only the library can detect.
* :func:`writable_dir` / :func:`writable_file`: check an output path before any work starts, so that
  an unwritable ``--out`` is one line and exit 2 rather than a traceback after the run.

docs/cli.md, "Errors", lists the conventions.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

__all__ = [
    "Parser", "UsageError", "number", "integer", "fraction", "in_user_words", "writable_dir", "writable_file",
]

# A negative number as a user writes it: -3, -3.5, -.5, -3e-4, -1E+9, -inf.
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-inf$")


class UsageError(ValueError):
    """Bad input already stated in the user's words (the CLI prints it as is, exit status 2)."""


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with one-line errors and negative numbers as values.

    argparse reads ``-3e-4`` as an unknown option (its own test accepts only ``-3`` and ``-.5``);
    here every token matching ``-<number>`` (exponents and ``-inf`` included) is a value, since no
    ``batchramp`` option looks like a negative number.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # argparse's own hook: a token it matches is a value, not an option (CPython 3.13 widened
        # its default to the same effect).
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str):  # noqa: D401 - argparse's interface
        """Print ``PROG: error: MESSAGE (see PROG --help)`` on stderr and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _range_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return "a finite number"


def _parsed(text: str, kind: str, rng: str, hint: str) -> float:
    """``float(text)``, or the converter's error: ``must be {kind} {range} ({hint}), got 'text'``."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {kind} {rng}{hint}, got {text!r}") from None


def _outside(v: float, low, high, low_open: bool, high_open: bool) -> bool:
    """Whether ``v`` lies outside the stated range (the one rule both converters apply)."""
    return (low is not None and (v < low or (low_open and v == low))) or (
        high is not None and (v > high or (high_open and v == high))
    )


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False, what: str = "", allow_inf: bool = False):
    """A ``type=`` converter: a float in the stated range, else an error naming the range.

    ``number(0, low_open=True, what="tokens, e.g. 3.3e9")`` accepts ``1e9`` and rejects ``-1e9`` with
    ``must be > 0 (tokens, e.g. 3.3e9), got -1e9``; argparse adds ``argument --tokens:``.
    """
    rng = _range_text(low, high, low_open, high_open)
    hint = f" ({what})" if what else ""

    def convert(text: str) -> float:
        v = _parsed(text, "a number", rng, hint)
        if math.isnan(v) or (math.isinf(v) and not allow_inf):
            raise argparse.ArgumentTypeError(f"must be a finite number {rng}{hint}, got {text!r}")
        if _outside(v, low, high, low_open, high_open):
            raise argparse.ArgumentTypeError(f"must be {rng}{hint}, got {text}")
        return v

    convert.__name__ = "number"  # argparse names the type in some messages
    return convert


def integer(low: int | None = None, high: int | None = None, *, what: str = ""):
    """A ``type=`` converter: a whole number (``256``, ``1e3`` and ``2.56e2`` are accepted) in ``[low, high]``."""
    rng = _range_text(low, high, False, False)
    hint = f" ({what})" if what else ""

    def convert(text: str) -> int:
        v = _parsed(text, "a whole number", rng, hint)
        if not math.isfinite(v) or not v.is_integer():
            raise argparse.ArgumentTypeError(f"must be a whole number {rng}{hint}, got {text}")
        if _outside(v, low, high, False, False):
            raise argparse.ArgumentTypeError(f"must be {rng}{hint}, got {text}")
        return int(v)

    convert.__name__ = "integer"
    return convert


def fraction(*, low_open: bool = False, high_open: bool = False, what: str = ""):
    """A fraction in ``[0, 1]`` (ends open as stated): ``number(0, 1, ...)``."""
    return number(0.0, 1.0, low_open=low_open, high_open=high_open, what=what)


def in_user_words(message: str, words: dict[str, str]) -> str:
    """``message`` with each library word of ``words`` (whole words only) replaced by the user's.

    ``in_user_words("tokens_per_sample must be >= 1", {"tokens_per_sample": "--seq-len"})`` is
    ``"--seq-len must be >= 1"``.
    """
    if not words:
        return message
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(words, key=len, reverse=True)) + r")(?![\w-])")
    return pattern.sub(lambda m: words[m.group(1)], message)


def _first_existing_parent(path: Path) -> Path:
    p = path.absolute()
    while not p.exists():
        p = p.parent
    return p


def writable_dir(flag: str, path: Path) -> Path:
    """Create folder ``path`` (and parents) and check that a file can be written in it.

    Raises :class:`UsageError` (``--out /proc/nope: cannot create or write this folder (...)``).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".batchramp-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create or write this folder ({exc.strerror or exc})") from None
    return path


def writable_file(flag: str, path: Path) -> Path:
    """Check that file ``path`` can be written (its folder is created), without leaving a file behind."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, expected a file name")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with path.open("a"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        where = _first_existing_parent(parent)
        raise UsageError(f"{flag} {path}: cannot write this file ({exc.strerror or exc}; nearest existing folder {where})") from None
    return path
