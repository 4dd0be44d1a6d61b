"""The ``batchramp`` command line: a thin argparse shell over the public API.

Each subcommand lives in its own module here and exposes ``register(subparsers)``, which
adds its parser and sets ``func``. The CLI runs in float64 unless ``--x32`` is given (the
library itself never flips global JAX configuration).
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

# Subcommand modules, in the order they appear in --help.
_COMMANDS = ["reproduce", "check", "seesaw", "sweep", "critical_batch"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batchramp",
        description="Verify learning-rate decay vs batch-size ramps for SGD on noisy linear regression.",
    )
    parser.add_argument("--x32", action="store_true", help="compute in float32 instead of float64")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import jax

    jax.config.update("jax_enable_x64", not args.x32)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:  # bad input: one clear line, no traceback
        print(f"batchramp {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
