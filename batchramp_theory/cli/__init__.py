"""The ``batchramp`` command line: a thin argparse shell over the public API.

Each subcommand lives in its own module here and exposes ``register(subparsers)``, which
adds its parser and sets ``func`` (and optionally ``user_words``: library parameter names ->
the flags that set them, used to restate a library ``ValueError`` in the user's words).
The CLI runs in float64 unless ``--x32`` is given, before or after the command (the library
itself never flips global JAX configuration). Errors follow docs/cli.md, "Errors": one line
on stderr, exit status 2, no traceback; an interrupt is one line and exit status 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .args import Parser, UsageError, in_user_words

__all__ = ["main", "build_parser"]

# Subcommand modules, in the order they appear in --help.
_COMMANDS = ["reproduce", "check", "seesaw", "sweep", "critical_batch", "plan"]


def build_parser() -> argparse.ArgumentParser:
    """The ``batchramp`` parser; ``parser.commands`` maps each command name to its subparser."""
    parser = Parser(
        prog="batchramp",
        description="Verify learning-rate decay vs batch-size ramps for SGD on noisy linear regression.",
    )
    parser.add_argument("--x32", action="store_true", help="compute in float32 instead of float64")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    for p in sub.choices.values():  # --x32 also after the command: `batchramp seesaw ... --x32`
        p.add_argument("--x32", action="store_true", default=argparse.SUPPRESS, help="compute in float32 instead of float64")
    parser.commands = dict(sub.choices)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``batchramp`` with ``argv``; returns the exit status (``--help`` exits through ``SystemExit(0)``)."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # name the command's own usage, not the top level's
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # a usage error has been printed (one line): return its status
        if exc.code:
            return int(exc.code)
        raise
    import jax

    jax.config.update("jax_enable_x64", not args.x32)
    prog = f"batchramp {args.command}"
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:  # already in the user's words
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad input the library caught: one line, in the flags' names
        print(f"{prog}: error: {in_user_words(str(exc), getattr(args, 'user_words', {}))}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. an output path that cannot be written
        where = f" {exc.filename}" if exc.filename else ""
        print(f"{prog}: error: cannot write or read{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
