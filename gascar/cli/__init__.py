"""The ``gascar`` command line: parses, validates, calls the library. Nothing more.

Each command lives in its own module of this package and registers itself
on :data:`cli`. Expected failures (:class:`~gascar.errors.GascarError`)
become one line on stderr, ``gascar: error: <file>: <what is wrong>``, and
the error's exit code (2, a usage error; 1 for results that cannot be
written); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import warnings

import click

from .. import __version__
from ..errors import GascarError

#: Command modules, imported in this order when the CLI starts.
COMMAND_MODULES = ("synths", "render", "export", "compare", "match", "batch", "report", "bench")

EXIT_USAGE = 2
#: Exit code after Ctrl-C (128 + SIGINT), as a shell reports a process stopped by it.
EXIT_INTERRUPTED = 130
#: Exit code when the reader of stdout went away (``gascar synths | head -1``): 128 + SIGPIPE, quietly.
EXIT_BROKEN_PIPE = 141


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again on the closed pipe."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class _Group(click.Group):
    """Click group that turns GASCAR's errors into one line and their exit code."""

    def invoke(self, ctx: click.Context):
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except GascarError as exc:
            if debug:
                raise
            click.echo(f"gascar: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            # Ctrl-C before a match catches it itself (imports, analysis): an interrupt like any other, not
            # click's "Aborted!" and exit 1. Files are written atomically, so nothing is left half-written.
            if debug:
                raise
            click.echo("gascar: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _quiet_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except MemoryError:
            if debug:
                raise
            click.echo("gascar: error: out of memory; try a smaller --population or fewer --jobs", err=True)
            ctx.exit(1)
        except Exception as exc:  # noqa: BLE001 - the last line of defence of the CLI
            if debug:
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(
                f"gascar: internal error: {type(exc).__name__}: {first} (rerun with --debug for the traceback)", err=True
            )
            ctx.exit(1)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"gascar: warning: {message}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="gascar")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """GASCAR evolves synthesizer presets that sound like a target sound.

    Start with `gascar match TARGET.wav`; see `gascar COMMAND --help`.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="gascar: %(levelname)s: %(message)s")
    if not debug:
        warnings.showwarning = _show_warning


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="gascar")
    except KeyboardInterrupt:  # between two commands' steps that click does not wrap (start-up, exit)
        click.echo("gascar: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(EXIT_BROKEN_PIPE)


for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a command whose module is not written yet
        if _exc.name != f"{__name__}.{_name}":
            raise

if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
