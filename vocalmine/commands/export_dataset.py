"""`vocalmine export-dataset`: the kept pairs as per-track stem folders (calls vocalmine.features.export)."""

from __future__ import annotations

from pathlib import Path

import click

from vocalmine.commands.context import Context, pass_context


@click.command("export-dataset")
@click.argument("out", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--scheduler", metavar="ADDRESS", default=None, show_default="start a LocalCluster",
              help="Address of a running Dask scheduler.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="LocalCluster worker processes (1 thread each).")
@click.option("--pairs-per-task", type=click.IntRange(min=1), default=4, show_default=True,
              help="Pairs per Dask task.")
@pass_context
def export_dataset_command(ctx: Context, out: Path | None, scheduler: str | None, workers: int,
                           pairs_per_task: int) -> None:
    """Write the kept pairs to OUT as MUSDB18-HQ-style track folders (train/, valid/, test/; each with
    mixture.wav, vocals.wav and accompaniment.wav at the release's own rate and channels, 32-bit float,
    vocals + accompaniment = mixture) and manifest.parquet. OUT defaults to the catalog's `dataset` folder.
    Open-Unmix reads it with `--dataset aligned --input-file mixture.wav --output-file vocals.wav`."""
    from vocalmine.features.export import export_dataset  # here: it imports dask and pandas, slow for --help

    summary = export_dataset(catalog=ctx.catalog, out=out, scheduler=scheduler, workers=workers,
                         pairs_per_task=pairs_per_task)
    for line in summary.lines():
        click.echo(line)
