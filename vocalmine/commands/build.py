"""`vocalmine build`: pairs.parquet -> training shards (calls vocalmine.features.build.build)."""

from __future__ import annotations

import click

from vocalmine.commands.context import Context, pass_context
from vocalmine.core.overrides import parse_key_values
from vocalmine.core.spec import PRESETS
from vocalmine.features.config import FeaturesConfig, config_from_overrides

_DEFAULT = FeaturesConfig()  # shown in --help; options left out keep these


@click.command("build")
@click.option("--scheduler", metavar="ADDRESS", default=None, show_default="start a LocalCluster",
              help="Address of a running Dask scheduler.")
@click.option("--workers", type=click.IntRange(min=1), default=None, show_default=str(_DEFAULT.workers),
              help="LocalCluster worker processes (1 thread each).")
@click.option("--seed", type=int, default=None, show_default=str(_DEFAULT.seed),
              help="Seed of the train/validation/test split by artist.")
@click.option("--pairs-per-shard", type=click.IntRange(min=1), default=None, show_default=str(_DEFAULT.pairs_per_shard),
              help="Pairs per shard file (and per Dask task).")
@click.option("--preset", type=click.Choice(list(PRESETS)), default="paper", show_default=True,
              help="Signal spec of the shards: "
              + "; ".join(f"{name}: {spec.describe()}" for name, spec in PRESETS.items())
              + ". Training, export, separation and evaluation follow the shards.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", show_default="none",
              help="Override any features setting, e.g. --set max_offset_s=3 or --set patch_frames=512 (repeatable).")
@pass_context
def build_command(ctx: Context, scheduler: str | None, workers: int | None, seed: int | None,
                  pairs_per_shard: int | None, preset: str, overrides: tuple[str, ...]) -> None:
    """Align and gain-match every mined pair and write training shards."""
    from vocalmine.features.build import build  # here: it imports dask and pandas, slow for --help

    values: dict = parse_key_values(overrides)
    for key, value in (("workers", workers), ("seed", seed), ("pairs_per_shard", pairs_per_shard)):
        if value is not None:
            values[key] = value
    summary = build(catalog=ctx.catalog, scheduler=scheduler,
                             config=config_from_overrides(values, preset_name=preset))
    for line in summary.lines():
        click.echo(line)
