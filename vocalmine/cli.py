"""The ``vocalmine`` command: a click group with one subcommand per stage.

Each subcommand lives in ``vocalmine/commands/<stage>.py`` and calls exactly
one library function. Errors of the :class:`VocalmineError` family become one
line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

# Dask's own loggers speak at INFO in every worker process; set before dask is imported
# so LocalCluster workers inherit it. -vv turns them back up in this process.
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")

import click

from vocalmine import __version__
from vocalmine.commands.context import Context
from vocalmine.core.catalog import DEFAULT_CATALOG_FILE
from vocalmine.core.errors import VocalmineError




class VocalmineGroup(click.Group):
    """A group whose commands report VocalmineError as one line and exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VocalmineError as exc:
            click.echo(f"error: {one_line(str(exc))}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted: re-run the same command to resume", err=True)
            sys.exit(130)


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
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")
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
