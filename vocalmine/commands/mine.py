"""`vocalmine mine`: pairs.parquet, rejects.parquet and unpaired.parquet from the track catalog."""

from __future__ import annotations

import click

from vocalmine.commands.context import Context, pass_context
from vocalmine.core.catalog import DataCatalog
from vocalmine.mining.config import MiningConfig

_DEFAULT = MiningConfig()  # shown in --help; options left out keep these (None below means "not given")


@click.command("mine")
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas", show_default=True,
              help="Matching engine; dask partitions by artist.")
@click.option("--scheduler", metavar="ADDRESS", default=None, show_default="a LocalCluster",
              help="Dask scheduler for decoding; 'sync' decodes in-process.")
@click.option("--title-threshold", type=float, default=None, show_default=f"{_DEFAULT.title_threshold:g}",
              help="Fuzzy title score (0-100) a pair must reach.")
@click.option("--duration-tolerance", type=float, default=None, show_default=f"{_DEFAULT.duration_tolerance_s:g}",
              help="Allowed duration difference, seconds.")
@click.option("--candidate-floor", type=float, default=None, show_default=f"{_DEFAULT.candidate_floor:g}",
              help="Title score below which a track is no candidate.")
@click.option("--missing-duration", type=click.Choice(["reject", "keep"]), default=None,
              show_default=_DEFAULT.missing_duration,
              help="Rows whose duration is missing (empty, n/a, ?, -, --:--): reject, or keep and skip the duration "
                   "check. With audio the decoded duration is used either way.")
@click.option("--workers", "n_workers", type=int, default=None, show_default=str(_DEFAULT.n_workers),
              help="LocalCluster worker processes.")
@click.option("--markers", "markers_file", metavar="FILE", default=None, show_default="the shipped vocabulary only",
              help="YAML file of your catalog's own instrumental markers, added to the shipped vocabulary, e.g. "
                   "'markers: [{family: karaoke, position: segment, terms: [sing-along version]}]'. "
                   "family: instrumental, karaoke, off_vocal, backing_track or minus_one; position: end (also "
                   "unbracketed at the end of a title), segment (in brackets or after ' - ') or alone (the whole "
                   "bracket or ' - ' part, for words that are ordinary words elsewhere).")
@pass_context
def mine_command(ctx: Context, engine: str, scheduler: str | None, title_threshold, duration_tolerance, candidate_floor,
         missing_duration, n_workers, markers_file: str | None) -> None:
    """Pair originals with their instrumentals; write pairs.parquet, rejects.parquet and unpaired.parquet.

    Instrumental releases are recognised by their markers in English, Japanese, Korean, Chinese, German, French,
    Spanish, Portuguese, Italian, Dutch, Polish, Russian and Turkish ("(Instrumental)", "(Off Vocal)", "(伴奏版)",
    "(MR)", "- Versión Instrumental", "(Playback)" ...); --markers adds your catalog's own.
    """
    from vocalmine.mining.markers import load_markers  # here: they import pandas, rapidfuzz and dask, slow for --help
    from vocalmine.mining.mine import mine

    config = MiningConfig().replace(
        markers=load_markers(markers_file) if markers_file else None,
        title_threshold=title_threshold,
        duration_tolerance_s=duration_tolerance,
        candidate_floor=candidate_floor,
        missing_duration=missing_duration,
        n_workers=n_workers,
    )
    summary = mine(catalog=ctx.catalog, engine=engine, scheduler=scheduler, config=config)
    click.echo(summary.format())
    click.echo(written(ctx.catalog))


def written(catalog: DataCatalog) -> str:
    """Where each output of `mine` went, one per line: a catalog may leave some out (they go beside the named ones)."""
    outputs = (("pairs", catalog.pairs), ("rejects", catalog.rejects), ("unpaired", catalog.unpaired),
               ("fingerprints", f"{catalog.fingerprints} (cache)"))
    return "wrote\n" + "\n".join(f"  {name:<13}{path}" for name, path in outputs)
