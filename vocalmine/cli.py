"""The ``vocalmine`` command: a click group with one subcommand per stage.

Each subcommand lives in ``vocalmine/commands/<stage>.py`` and calls exactly
one library function. Errors of the :class:`VocalmineError` family become one
line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
from pathlib import Path

# Dask's own loggers speak at INFO in every worker process; set before dask is imported
# so LocalCluster workers inherit it. -vv turns them back up in this process.
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
# LocalCluster workers leave Ctrl-C to this process (see vocalmine.core.worker_signals).
os.environ.setdefault("DASK_DISTRIBUTED__WORKER__PRELOAD", '["vocalmine.core.worker_signals"]')

import click

from vocalmine import __version__
from vocalmine.commands.context import Context
from vocalmine.core.catalog import DEFAULT_CATALOG_FILE
from vocalmine.core.errors import DISK_FULL, VocalmineError

INTERRUPTED = "interrupted: re-run the same command to resume"  # the one line printed after Ctrl-C
_interrupt = threading.Event()  # set by the first Ctrl-C


def _on_sigint(signum, frame) -> None:
    """First Ctrl-C: stop this command's worker processes, silence the logs of what unwinds, interrupt.

    Worker processes (Dask's, a DataLoader's) are this process's children and hold no state
    that a re-run needs: every write is atomic, and each stage resumes from what was finished.
    A second Ctrl-C interrupts the clean-up itself.
    """
    _interrupt.set()
    logging.disable(logging.CRITICAL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError, ValueError):
            child.kill()
    raise KeyboardInterrupt


def _close_dask_quietly() -> None:
    """Close a Dask cluster that Ctrl-C left half started, so no traceback follows at exit."""
    spec = sys.modules.get("distributed.deploy.spec")
    if spec is None:
        return
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            spec.close_clusters()
        except BaseException:  # noqa: BLE001 - a cluster interrupted while starting cannot always close; we exit anyway
            pass
    atexit.unregister(spec.close_clusters)


def _exit_interrupted() -> None:
    _close_dask_quietly()
    click.echo(INTERRUPTED, err=True)
    sys.exit(130)


class VocalmineGroup(click.Group):
    """A group whose commands report VocalmineError as one line and exit 1, and Ctrl-C as one line and exit 130."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands in the order they were added, which is pipeline order (ALL_COMMANDS), not alphabetical.

        A newcomer reads `--help` top to bottom as the order to run the stages in.
        """
        return list(self.commands)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VocalmineError as exc:
            if _interrupt.is_set():  # a library turned the interrupt into an error of its own
                _exit_interrupted()
            click.echo(f"error: {one_line(str(exc))}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            _exit_interrupted()
        except OSError as exc:
            if _interrupt.is_set():
                _exit_interrupted()
            if exc.errno not in DISK_FULL:
                raise
            # Stages name the file themselves; this catches a full disk wherever one does not.
            click.echo(f"error: {exc.filename or 'a file'}: disk full ({exc.strerror}); free space and re-run "
                       "the same command to resume", err=True)
            sys.exit(1)
        except Exception:
            if _interrupt.is_set():
                _exit_interrupted()
            raise


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def one_line(message: str) -> str:
    """``message`` without terminal escape codes (torch puts some in its errors) on one line."""
    return " ".join(_ANSI.sub("", message).split())


@click.group(cls=VocalmineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_CATALOG_FILE,
    show_default=True,
    help="The data catalog (yaml) naming every stage's inputs and outputs.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="vocalmine")
@click.pass_context
def cli(ctx: click.Context, catalog_path: Path, verbose: int) -> None:
    """Mine (original, instrumental) pairs from a catalog and train a singing voice separator."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)
    level = logging.WARNING - 10 * verbose
    # with -v each line says when, in milliseconds since start: where a long run's time went
    stamp = "%(relativeCreated)9.0f ms " if verbose else ""
    logging.basicConfig(level=max(level, logging.DEBUG), format=stamp + "%(levelname)s %(name)s: %(message)s")
    if verbose >= 2:
        logging.getLogger("distributed").setLevel(logging.INFO)
    ctx.obj = Context(catalog_path, verbose)


def _register() -> None:
    # Imported here so that `vocalmine --help` stays fast and each stage owns its command.
    from vocalmine.commands import ALL_COMMANDS

    for command in ALL_COMMANDS:
        cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="vocalmine")
